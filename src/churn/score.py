"""`churn score`: the weekly batch job over the whole customer base.

Features are built at `score.as_of` by the training code, then streamed through the champion in
chunks of `score.chunk_rows` (memory stays flat as the base grows). Every row carries the
calibrated risk, band, value tier, expected loss, propensities, reason codes and lineage. A call
list ranks customers by the expected net value of a contact, with a hashed control group left out.

Safe to re-run: everything is written to a hidden staging folder, the warehouse slice is replaced
in one transaction, and the folder is swapped in last. A crash leaves the previous output as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from churn.data_config import data_mode
from churn.dataset import (
    build_snapshot,
    data_end_date,
    feature_set_hash,
    warehouse_tables,
)
from churn.errors import ChurnError
from churn.evaluate import assign_risk_bands, with_economics
from churn.explain import explain, reason_codes
from churn.features import available_families, catalog
from churn.features.value import ValueTiers
from churn.store import FolderLock, is_leftover, neutralise_cells, swap_dir, write_owner

log = logging.getLogger(__name__)
VALUE_COLUMN = "revenue_12m"
TREATMENT = ("call", "control", "none")
REASON_PARTS = ("", "_feature", "_value", "_shap", "_family")
CSV_COLUMNS = [
    "customer_id",
    "as_of",
    "churn_probability",
    "risk_band",
    "value",
    "value_tier",
    "expected_loss",
    "expected_net_value",
    "cross_sell_propensity",
    "upsell_propensity",
    "treatment_group",
    "reason_1",
    "reason_2",
    "reason_3",
    "model_name",
    "model_version",
    "run_id",
    "feature_set_hash",
]


def output_schema(id_type: pa.DataType) -> pa.Schema:
    """Every output column with a fixed type, so an all-empty column (no reasons, no propensity
    model) is written with the same type as a full one and the `scores` table stays appendable."""
    reasons = []
    for k in (1, 2, 3):
        reasons += [
            (f"reason_{k}", pa.string()),
            (f"reason_{k}_feature", pa.string()),
            (f"reason_{k}_value", pa.string()),
            (f"reason_{k}_shap", pa.float64()),
            (f"reason_{k}_family", pa.string()),
        ]
    return pa.schema(
        [
            ("customer_id", id_type),
            ("as_of", pa.date32()),
            ("churn_probability", pa.float64()),
            ("risk_band", pa.string()),
            ("value", pa.float64()),
            ("value_tier", pa.string()),
            ("expected_loss", pa.float64()),
            ("expected_net_value", pa.float64()),
            ("cross_sell_propensity", pa.float64()),
            ("upsell_propensity", pa.float64()),
            ("holdout", pa.bool_()),
            ("treatment_group", pa.string()),
            *reasons,
            ("model_name", pa.string()),
            ("model_version", pa.string()),
            ("run_id", pa.string()),
            ("feature_set_hash", pa.string()),
        ]
    )


def write_part(frame: pd.DataFrame, schema: pa.Schema, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), path)


@dataclass
class Scorer:
    """The champion, optional propensity models and what was stored with them at training."""

    churn: Any  # tracking.RegisteredModel
    features: list[dict]
    value_tiers: ValueTiers | None
    feature_set_hash: str
    reference: dict
    propensity: dict[str, Any] = field(default_factory=dict)
    inferred: dict = field(default_factory=dict)  # a customer table's bands and costs


def in_holdout(customer_ids, salt: str, fraction: float) -> np.ndarray:
    """A stable random draw per customer: the same customers are control every week."""
    ids = np.asarray(customer_ids)
    key = hashlib.sha256(salt.encode()).hexdigest()[:16]
    if ids.dtype.kind in "iu":
        salted = pd.util.hash_array(ids.astype(np.int64)) ^ np.uint64(int(key, 16))
        hashed = pd.util.hash_array(salted)
    else:
        hashed = pd.util.hash_array(ids.astype(str).astype(object), hash_key=key)
    return (hashed % np.uint64(1_000_000)) < np.uint64(round(fraction * 1_000_000))


def expected_net_value(expected_loss: np.ndarray, costs: Mapping) -> np.ndarray:
    """What a contact is worth: the loss it saves if the customer accepts, less what it costs."""
    return expected_loss * costs["acceptance_rate"] - costs["contact_cost"]


def select_calls(net: np.ndarray, holdout: np.ndarray, capacity: int) -> tuple[np.ndarray, ...]:
    """Walk down the ranking: non-holdout customers are called until capacity is reached; holdout
    customers ranked among them are the control group. Only positive net values are contacted."""
    order = np.argsort(-net, kind="stable")
    order = order[net[order] > 0]
    callable_ = ~holdout[order]
    calls_before = np.cumsum(callable_) - callable_
    within = calls_before < capacity
    return order[within & callable_], order[within & ~callable_]


def load_scorer(cfg: Mapping) -> Scorer:
    """The registered champion with its feature catalogue, value tiers and reference."""
    from mlflow.exceptions import MlflowException

    from churn.tracking import load_registered, run_artifacts

    opts, uri = cfg["score"], cfg["mlflow"]["tracking_uri"]
    champion = load_registered(opts["model_uri"], uri)
    stored = run_artifacts(champion.run_id, ["feature_catalog.json", "reference.json"])
    if "feature_catalog.json" not in stored or "reference.json" not in stored:
        raise ChurnError(f"run {champion.run_id} lacks its feature catalogue: retrain the model")
    features = stored["feature_catalog.json"]
    tiers = features.get("value_tiers")
    scorer = Scorer(
        champion,
        features["features"],
        ValueTiers.from_dict(tiers) if tiers else None,
        features.get("feature_set_hash") or "",
        stored["reference.json"],
        inferred=features.get("inferred") or {},
    )
    prefix = cfg["mlflow"]["model_prefix"]
    for name in opts["propensity"]:
        try:
            scorer.propensity[name] = load_registered(f"models:/{prefix}-{name}@champion", uri)
        except ChurnError:
            log.info("no %s-%s champion registered: %s_propensity left empty", prefix, name, name)
        except MlflowException as err:
            raise ChurnError(f"could not load the {name} model: {err}") from err
    return scorer


def resolve_as_of(tables, declared: str | None, load_date: str | None) -> dt.date:
    """The declared date, else the day after the latest data, so every loaded row counts."""
    if declared:
        return dt.date.fromisoformat(str(declared))
    if "customers" not in tables and load_date:  # a snapshot table: as of its own date
        return dt.date.fromisoformat(str(load_date))
    return data_end_date(tables, load_date) + dt.timedelta(days=1)


def scoring_expression(con, cfg: Mapping, as_of: dt.date, scorer: Scorer):
    """The training code's snapshot at as_of, for whichever backend `con` is."""
    if data_mode(cfg["data"]) == "snapshot":
        from churn.snapshot import resolved_spec, scoring_table, snapshot_features

        spec = resolved_spec(Path(cfg["paths"]["data_dir"]))
        check_feature_set(feature_set_hash(snapshot_features(spec)), scorer)
        return scoring_table(con, as_of)
    tables = warehouse_tables(con)
    if "customers" not in tables:
        raise ChurnError("the warehouse has no customers table: run `churn validate` first")
    fcfg = cfg["features"]
    families = available_families(tables, list(fcfg["families"]) or None, announce=False)
    check_feature_set(feature_set_hash(catalog(families, tuple(fcfg["windows"]), tables)), scorer)
    data_end = as_of - dt.timedelta(days=1)
    return build_snapshot(tables, as_of, fcfg, cfg["labels"], cfg["cutoffs"], data_end, families)


def check_feature_set(built: str, scorer: Scorer) -> None:
    """The features built here must be the ones the model was trained on."""
    if scorer.feature_set_hash and built != scorer.feature_set_hash:
        raise ChurnError(
            f"the features configured here (hash {built}) are not the ones "
            f"{scorer.churn.name} v{scorer.churn.version} was trained on "
            f"({scorer.feature_set_hash}): score with the training run's features config"
        )


def check_columns(schema: pa.Schema, features: Sequence[dict]) -> None:
    """Stop before any output when a column the model needs is missing."""
    missing = [f["name"] for f in features if f["name"] not in schema.names]
    if VALUE_COLUMN not in schema.names:
        missing.append(VALUE_COLUMN)
    if missing:
        raise ChurnError(
            f"the scoring features lack column(s) {', '.join(missing)} the model was trained on: "
            "check features.families and the data config's column mapping"
        )


def to_model_types(frame: pd.DataFrame, features: Sequence[dict]) -> pd.DataFrame:
    """Numbers as float64 and categories as strings; a value that cannot be cast is an error."""
    types = {f["name"]: "float64" if f["kind"] == "numeric" else "object" for f in features}
    try:
        return frame[list(types)].astype(types)
    except (TypeError, ValueError) as err:
        for name, kind in types.items():
            bad = pd.to_numeric(frame[name], errors="coerce").isna() & frame[name].notna()
            if kind == "float64" and bad.any():
                examples = frame.loc[bad, ["customer_id", name]].head(5).to_dict("records")
                raise ChurnError(
                    f"column {name} has values that are not numbers, e.g. {examples}"
                ) from err
        raise


def score_chunk(
    chunk: pd.DataFrame, scorer: Scorer, cfg: Mapping, as_of: dt.date, X: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One chunk of customers: probabilities, bands, value, reasons, lineage."""
    opts = cfg["score"]
    X = to_model_types(chunk, scorer.features) if X is None else X
    if "churn_probability" in chunk:  # computed by mlflow.pyfunc.spark_udf on Spark
        p = chunk["churn_probability"].to_numpy(dtype=float)
    else:
        p = scorer.churn.model.predict_proba(X)[:, 1]
    value = chunk[VALUE_COLUMN].fillna(0.0).to_numpy(dtype=float)
    tiers = (
        scorer.value_tiers.transform(value).ravel()
        if scorer.value_tiers is not None
        else np.full(len(chunk), "unknown", dtype=object)
    )
    loss = p * value
    out = pd.DataFrame(
        {
            "customer_id": chunk["customer_id"].to_numpy(),
            "as_of": as_of,
            "churn_probability": p,
            "risk_band": assign_risk_bands(p, cfg["risk"]["edges"], cfg["risk"]["labels"]),
            "value": value,
            "value_tier": tiers,
            "expected_loss": loss,
            "expected_net_value": expected_net_value(loss, cfg["costs"]),
        }
    )
    for name in ("cross_sell", "upsell"):
        model = scorer.propensity.get(name)
        out[f"{name}_propensity"] = (
            model.model.predict_proba(X)[:, 1] if model is not None else np.nan
        )
    out["holdout"] = in_holdout(out["customer_id"], opts["holdout_salt"], opts["holdout_fraction"])
    out["treatment_group"] = "none"
    reasons = reasons_for(X, scorer, opts["with_reasons"], opts.get("min_reason_points", 0.5))
    out = pd.concat([out, reasons], axis=1)
    out["model_name"] = scorer.churn.name
    out["model_version"] = scorer.churn.version
    out["run_id"] = scorer.churn.run_id
    out["feature_set_hash"] = scorer.feature_set_hash
    return out


def reasons_for(
    X: pd.DataFrame, scorer: Scorer, with_reasons: bool, min_points: float = 0.5
) -> pd.DataFrame:
    """reason_1..3 with feature, value (as text), SHAP and family; empty columns when off."""
    if not with_reasons:
        empty = np.full(len(X), None, dtype=object)
        columns = [f"reason_{k}{part}" for k in (1, 2, 3) for part in REASON_PARTS]
        return pd.DataFrame(
            {c: np.full(len(X), np.nan) if c.endswith("_shap") else empty for c in columns},
            index=X.index,
        )
    codes = reason_codes(explain(scorer.churn.model, X), X, scorer.features, min_points=min_points)
    for k in (1, 2, 3):
        values = codes[f"reason_{k}_value"]
        codes[f"reason_{k}_value"] = values.astype(str).where(values.notna(), None)
    return codes


@dataclass
class DriftCounter:
    """Bin counts of every feature across chunks, against the training reference."""

    reference: dict
    counts: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, X: pd.DataFrame) -> None:
        for name, ref in self.reference["numeric"].items():
            if name not in X:
                continue
            values = X[name].to_numpy(dtype=float)
            edges = np.asarray(ref["edges"], dtype=float)
            known = ~np.isnan(values)
            bins = np.clip(np.searchsorted(edges, values[known], side="right") - 1, 0, None)
            n_bins = max(len(ref["shares"]), 1)
            counts = np.bincount(np.minimum(bins, n_bins - 1), minlength=n_bins).astype(float)
            counts = np.append(counts, (~known).sum())
            self.counts[name] = self.counts.get(name, 0) + counts
        for name, ref in self.reference["categorical"].items():
            if name not in X:
                continue
            seen = X[name].fillna("missing").astype(str)
            levels = list(ref["shares"])
            counts = np.array([(seen == c).sum() for c in levels] + [(~seen.isin(levels)).sum()])
            self.counts[name] = self.counts.get(name, 0) + counts.astype(float)

    def psi(self) -> dict[str, float]:
        out = {}
        for name, counts in self.counts.items():
            expected = self.expected(name)
            actual = counts / max(counts.sum(), 1.0)
            out[name] = population_stability(expected, actual)
        return out

    def expected(self, name: str) -> np.ndarray:
        if name in self.reference["numeric"]:
            ref = self.reference["numeric"][name]
            shares = np.asarray(ref["shares"] or [0.0], dtype=float) * (1 - ref["missing"])
            return np.append(shares, ref["missing"])
        shares = self.reference["categorical"][name]["shares"]
        return np.append(np.asarray(list(shares.values()), dtype=float), 0.0)


def population_stability(expected: np.ndarray, actual: np.ndarray, floor: float = 1e-4) -> float:
    """PSI = sum (a - e) ln(a / e), with empty bins floored so the sum stays finite."""
    e, a = np.maximum(expected, floor), np.maximum(actual, floor)
    return float(np.sum((a - e) * np.log(a / e)))


def stale_staging(scores_dir: Path) -> list[Path]:
    return sorted(scores_dir.glob(".as_of=*.tmp-*")) if scores_dir.exists() else []


def finish_parts(staging: Path, calls: set, controls: set) -> int:
    """One pass over the staged parts: mark who is called and who is control, and append each
    part to scores.csv (the documented columns, for CRM import). Returns the rows."""
    writer, rows = None, 0
    for part in parts_of(staging):
        table = pq.ParquetFile(part).read()
        ids = table.column("customer_id").to_pandas()
        group = np.where(ids.isin(calls), "call", np.where(ids.isin(controls), "control", "none"))
        index = table.schema.get_field_index("treatment_group")
        table = table.set_column(index, "treatment_group", pa.array(group, pa.string()))
        pq.write_table(table, part)
        csv_table = neutralise_cells(table.select(CSV_COLUMNS))
        if writer is None:
            writer = pacsv.CSVWriter(staging / "scores.csv", csv_table.schema)
        writer.write_table(csv_table)
        rows += table.num_rows
    if writer is not None:
        writer.close()
    return rows


def publish_table(con, staging: Path, as_of: dt.date) -> None:
    """Replace the as_of slice of the warehouse `scores` table in one transaction."""
    if con.name == "pyspark":
        publish_spark_table(con, staging, as_of)
        return
    if con.name != "duckdb":
        log.warning("scores table: DuckDB and Spark warehouses get one, not %s", con.name)
        return
    raw = con.con
    # the path reaches DuckDB as a value of its relational API, never pasted into SQL text
    incoming = raw.read_parquet(str(staging / "part-*.parquet"))
    view = f"_incoming_scores_{uuid.uuid4().hex[:8]}"
    raw.register(view, incoming)
    try:
        insert_scores(raw, view, as_of)
    finally:
        raw.unregister(view)


def insert_scores(raw, view: str, as_of: dt.date) -> None:
    """Add new columns, replace the as_of slice, all in one transaction."""
    raw.execute(f'CREATE TABLE IF NOT EXISTS scores AS SELECT * FROM "{view}" LIMIT 0')
    have = {r[0] for r in raw.execute("DESCRIBE scores").fetchall()}
    incoming = raw.execute(f'DESCRIBE SELECT * FROM "{view}"').fetchall()
    raw.execute("BEGIN TRANSACTION")
    try:
        for name, kind, *_ in incoming:
            if name not in have:
                quoted = name.replace('"', '""')
                raw.execute(f'ALTER TABLE scores ADD COLUMN "{quoted}" {kind}')
        raw.execute("DELETE FROM scores WHERE as_of = ?", [as_of])
        raw.execute(f'INSERT INTO scores BY NAME SELECT * FROM "{view}"')
        raw.execute("COMMIT")
    except Exception:
        raw.execute("ROLLBACK")
        raise


def score_base(cfg: Mapping) -> dict[str, Any]:
    """The whole job; returns a summary. Nothing is visible until everything is written."""

    opts = cfg["score"]
    if opts["engine"] not in ("duckdb", "spark"):
        raise ChurnError(f"score.engine={opts['engine']!r}: use duckdb or spark")
    if opts["chunk_rows"] < 1:
        raise ChurnError("score.chunk_rows must be at least 1")
    scorer = load_scorer(cfg)
    cfg = with_economics(cfg, scorer.inferred)
    scores_dir = Path(cfg["paths"]["scores_dir"])
    with FolderLock(scores_dir, "score"):
        for stale in stale_staging(scores_dir):
            if is_leftover(stale):  # never a live run's folder
                log.info("removing %s left by an interrupted run", stale)
                shutil.rmtree(stale, ignore_errors=True)
        return score_locked(cfg, scorer, scores_dir)


def score_locked(cfg: Mapping, scorer: Scorer, scores_dir: Path) -> dict[str, Any]:
    """Score into a staging folder owned by this process, publish, swap it in."""
    from churn.warehouse import connection

    opts = cfg["score"]
    started = time.perf_counter()
    with connection(cfg["warehouse"]) as con:
        load_date = cfg["data"].get("load_date")
        if data_mode(cfg["data"]) == "snapshot" and not load_date:
            from churn.snapshot import resolved_spec

            load_date = resolved_spec(Path(cfg["paths"]["data_dir"]))["as_of"]
        as_of = resolve_as_of(warehouse_tables(con), opts["as_of"], load_date)
        staging = scores_dir / f".as_of={as_of.isoformat()}.tmp-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        write_owner(staging)
        try:
            summary = score_into(con, cfg, scorer, as_of, staging)
            if summary["drift_blocked"]:
                return summary
            if opts["publish_table"]:
                publish_table(con, staging, as_of)
            target = scores_dir / f"as_of={as_of.isoformat()}"
            summary["publish_s"] = time.perf_counter() - started - summary["features_s"]
            summary["job_wall_s"] = time.perf_counter() - started
            (staging / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            swap_dir(staging, target)
            summary["path"] = str(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return summary


def score_on_spark(con, cfg: Mapping, scorer: Scorer, as_of: dt.date, staging: Path) -> Path:
    """Features built by Spark (Ibis pyspark), probabilities from `mlflow.pyfunc.spark_udf`, the
    rest from `score_chunk` in a `mapInPandas`: the same code as on DuckDB, run by the executors."""
    import mlflow
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    if con.name != "pyspark":
        raise ChurnError("score.engine=spark needs warehouse.backend=pyspark")
    spark = con._session
    features_dir = staging / "_features"
    con.raw_sql(con.compile(scoring_expression(con, cfg, as_of, scorer))).write.parquet(
        str(features_dir)
    )
    parts = parts_of(features_dir)
    check_columns(pq.ParquetFile(parts[0]).schema_arrow, scorer.features)
    from churn.trust import check_artifact

    check_artifact(f"models:/{scorer.churn.name}/{scorer.churn.version}")
    predict = mlflow.pyfunc.spark_udf(
        spark,
        f"models:/{scorer.churn.name}/{scorer.churn.version}",
        result_type="array<double>",
        env_manager="local",
    )
    typed = [  # the model's input types, as to_model_types gives them on DuckDB
        F.col(f["name"]).cast("double" if f["kind"] == "numeric" else "string").alias(f["name"])
        for f in scorer.features
    ]
    source = spark.read.parquet(str(features_dir))
    with_p = source.withColumn("churn_probability", predict(F.struct(*typed))[1])
    if not sum(pq.ParquetFile(p).metadata.num_rows for p in parts):
        raise ChurnError(f"no active customer at {as_of}: nothing to score")
    arrow = output_schema(pq.ParquetFile(parts[0]).schema_arrow.field("customer_id").type)

    def score_batches(batches):
        for batch in batches:
            yield score_chunk(batch, scorer, cfg, as_of)[arrow.names]

    scored_dir = staging / "_scored"
    with_p.mapInPandas(score_batches, from_arrow_schema(arrow)).write.parquet(str(scored_dir))
    for i, part in enumerate(parts_of(scored_dir)):
        part.rename(staging / f"part-{i:05d}.parquet")
    shutil.rmtree(scored_dir)
    return features_dir


def publish_spark_table(con, staging: Path, as_of: dt.date) -> None:
    """Overwrite the as_of partition of the Spark `scores` table (dynamic partition overwrite)."""
    spark = con._session
    frame = spark.read.parquet(*[str(p) for p in parts_of(staging)])
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    if not spark.catalog.tableExists("scores"):
        frame.write.partitionBy("as_of").saveAsTable("scores")
    else:
        frame.select(*spark.table("scores").columns).write.insertInto("scores", overwrite=True)


def scoring_bar():
    """Chunks as rows done, with the rows per second scored so far."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )


def score_into(con, cfg, scorer, as_of, staging: Path) -> dict:
    """Build and score the features into staging parts, then drift, call list and CSVs."""
    opts = cfg["score"]
    started = time.perf_counter()
    if opts["engine"] == "spark":
        features_dir = score_on_spark(con, cfg, scorer, as_of, staging)
        features_s = scoring_s = time.perf_counter() - started
        drift = count_drift(features_dir, scorer, opts["chunk_rows"])
        candidates = [top_candidates(read_part(p), opts["capacity"]) for p in parts_of(staging)]
    else:
        features_dir = staging / "_features"
        features_dir.mkdir()
        con.to_parquet(scoring_expression(con, cfg, as_of, scorer), features_dir / "part-0.parquet")
        features_s = time.perf_counter() - started
        drift = DriftCounter(scorer.reference)
        scoring_s, candidates = score_parts(features_dir, scorer, cfg, as_of, staging, drift)
    summary = {
        "as_of": as_of.isoformat(),
        "engine": opts["engine"],
        "model": f"{scorer.churn.name} v{scorer.churn.version}",
        "run_id": scorer.churn.run_id,
        "features_s": features_s,
        "scoring_s": scoring_s,
    }
    summary.update(check_drift(drift, cfg, as_of, staging))
    shutil.rmtree(features_dir)
    if summary["drift_blocked"]:
        return summary
    summary.update(write_call_list(staging, candidates, opts))
    log.info(
        "scored %s customers as of %s: %s to call, %s held out as control",
        f"{summary['rows']:,}",
        as_of,
        f"{summary['calls']:,}",
        f"{summary['controls']:,}",
    )
    return summary


def read_part(path: Path) -> pd.DataFrame:
    """One staged file (no partition columns taken from its folder's name)."""
    return pq.ParquetFile(path).read().to_pandas()


def parts_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


def score_parts(features_dir: Path, scorer, cfg, as_of, staging: Path, drift) -> tuple:
    """Stream the feature parquet through the model chunk by chunk into staged parts; returns
    the seconds spent and the rows that could make the call list."""
    opts = cfg["score"]
    files = [pq.ParquetFile(p) for p in parts_of(features_dir)]
    check_columns(files[0].schema_arrow, scorer.features)
    schema = output_schema(files[0].schema_arrow.field("customer_id").type)
    total = sum(f.metadata.num_rows for f in files)
    if total == 0:
        raise ChurnError(f"no active customer at {as_of}: nothing to score")
    spent, i, candidates = 0.0, 0, []
    with scoring_bar() as bar:
        task = bar.add_task(f"scoring as of {as_of}", total=total, rate="")
        for source in files:
            for batch in source.iter_batches(batch_size=opts["chunk_rows"]):
                t0 = time.perf_counter()
                chunk = batch.to_pandas()
                X = to_model_types(chunk, scorer.features)
                drift.add(X)
                scored = score_chunk(chunk, scorer, cfg, as_of, X)
                candidates.append(top_candidates(scored, opts["capacity"]))
                write_part(scored, schema, staging / f"part-{i:05d}.parquet")
                spent += time.perf_counter() - t0
                i += 1
                done = bar.tasks[task].completed + batch.num_rows
                bar.update(task, completed=done, rate=f"{done / spent:,.0f} rows/s")
    return spent, candidates


def count_drift(features_dir: Path, scorer, chunk_rows: int) -> DriftCounter:
    """Bin counts of every feature file, chunk by chunk (the Spark path)."""
    drift = DriftCounter(scorer.reference)
    for part in parts_of(features_dir):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=chunk_rows):
            drift.add(to_model_types(batch.to_pandas(), scorer.features))
    return drift


def check_drift(drift: DriftCounter, cfg, as_of, staging: Path) -> dict:
    """PSI of every feature against the training reference; the report is written either way."""
    opts = cfg["score"]
    psi = drift.psi()
    worst = max(psi, key=psi.get) if psi else None
    drifted = sorted(k for k, v in psi.items() if v > opts["psi_threshold"])
    report = {
        "as_of": as_of.isoformat(),
        "threshold": opts["psi_threshold"],
        "drifted": drifted,
        "psi": dict(sorted(psi.items(), key=lambda kv: -kv[1])),
    }
    text = json.dumps(report, indent=2) + "\n"
    (staging / "drift.json").write_text(text)
    drift_dir = Path(cfg["paths"]["scores_dir"]) / "drift"
    drift_dir.mkdir(parents=True, exist_ok=True)
    (drift_dir / f"as_of={as_of.isoformat()}.json").write_text(text)
    log.info(
        "drift: %d of %d features over PSI %.2f (worst %s %.3f)",
        len(drifted),
        len(psi),
        opts["psi_threshold"],
        worst,
        psi.get(worst, 0.0) if worst else 0.0,
    )
    blocked = bool(drifted) and opts["fail_on_drift"]
    if blocked:
        log.error(
            "score.fail_on_drift: %s drifted; scores not published (report %s)",
            ", ".join(drifted),
            drift_dir / f"as_of={as_of.isoformat()}.json",
        )
    return {"drifted": drifted, "drift_blocked": blocked}


def write_call_list(staging: Path, candidates: list[pd.DataFrame], opts: Mapping) -> dict:
    """Rank the candidates, then one pass over the parts marks call and control and writes the
    CSVs."""
    pool = pd.concat(candidates, ignore_index=True)
    calls, controls = select_calls(
        pool["expected_net_value"].to_numpy(), pool["holdout"].to_numpy(), opts["capacity"]
    )
    rows = finish_parts(
        staging, set(pool["customer_id"].iloc[calls]), set(pool["customer_id"].iloc[controls])
    )
    call_list = pool.iloc[calls].assign(treatment_group="call", rank=np.arange(1, len(calls) + 1))
    neutralise_cells(call_list[["rank", *CSV_COLUMNS]]).to_csv(
        staging / "call_list.csv", index=False
    )
    return {"calls": len(calls), "controls": len(controls), "rows": rows}


def top_candidates(scored: pd.DataFrame, capacity: int) -> pd.DataFrame:
    """The rows of a chunk that could make the global call list (or its control group)."""
    net, holdout = scored["expected_net_value"].to_numpy(), scored["holdout"].to_numpy()
    calls, controls = select_calls(net, holdout, capacity)
    return scored.iloc[np.sort(np.concatenate([calls, controls]))]


def run_score(cfg) -> dict:
    """Hydra entry: exit non-zero when the drift gate stopped publication."""
    from omegaconf import OmegaConf

    summary = score_base(OmegaConf.to_container(cfg, resolve=True))
    if summary["drift_blocked"]:
        raise ChurnError(
            f"drift over score.psi_threshold in {', '.join(summary['drifted'])}: scores for "
            f"{summary['as_of']} not published (score.fail_on_drift=true)"
        )
    return summary
