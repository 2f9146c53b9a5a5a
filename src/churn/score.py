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

from churn.dataset import (
    build_snapshot,
    data_end_date,
    feature_set_hash,
    swap_dir,
    warehouse_tables,
)
from churn.errors import ChurnError
from churn.evaluate import assign_risk_bands
from churn.explain import explain, reason_codes
from churn.features import available_families, catalog
from churn.features.value import ValueTiers

log = logging.getLogger(__name__)
VALUE_COLUMN = "revenue_12m"
TREATMENT = ("call", "control", "none")
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


@dataclass
class Scorer:
    """The champion, optional propensity models and what was stored with them at training."""

    churn: Any  # tracking.RegisteredModel
    features: list[dict]
    value_tiers: ValueTiers | None
    feature_set_hash: str
    reference: dict
    propensity: dict[str, Any] = field(default_factory=dict)


def in_holdout(customer_ids, salt: str, fraction: float) -> np.ndarray:
    """A stable random draw per customer: the same customers are control every week."""
    keys = pd.Series([f"{salt}:{c}" for c in customer_ids], dtype=object)
    hashed = pd.util.hash_pandas_object(keys, index=False).to_numpy()
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

    from churn.report import run_artifacts
    from churn.tracking import load_registered

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
    return data_end_date(tables, load_date) + dt.timedelta(days=1)


def build_scoring_features(con, cfg: Mapping, as_of: dt.date, scorer: Scorer, out: Path) -> Path:
    """The training code's snapshot at as_of, written to parquet in the staging folder."""
    tables = warehouse_tables(con)
    if "customers" not in tables:
        raise ChurnError("the warehouse has no customers table: run `churn validate` first")
    fcfg = cfg["features"]
    families = available_families(tables, list(fcfg["families"]) or None, announce=False)
    built = feature_set_hash(catalog(families, tuple(fcfg["windows"])))
    if scorer.feature_set_hash and built != scorer.feature_set_hash:
        raise ChurnError(
            f"the features configured here (hash {built}) are not the ones "
            f"{scorer.churn.name} v{scorer.churn.version} was trained on "
            f"({scorer.feature_set_hash}): score with the training run's features config"
        )
    data_end = as_of - dt.timedelta(days=1)
    expr = build_snapshot(tables, as_of, fcfg, cfg["labels"], cfg["cutoffs"], data_end, families)
    path = out / "_features.parquet"
    con.to_parquet(expr, path)
    return path


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
    out = frame[[f["name"] for f in features]].copy()
    for spec in features:
        name = spec["name"]
        if spec["kind"] == "numeric":
            try:
                out[name] = out[name].astype("float64")
            except (TypeError, ValueError) as err:
                bad = pd.to_numeric(out[name], errors="coerce").isna() & out[name].notna()
                examples = frame.loc[bad, ["customer_id", name]].head(5).to_dict("records")
                raise ChurnError(
                    f"column {name} has values that are not numbers, e.g. {examples}"
                ) from err
        else:
            out[name] = out[name].astype("object")
    return out


def score_chunk(chunk: pd.DataFrame, scorer: Scorer, cfg: Mapping, as_of: dt.date) -> pd.DataFrame:
    """One chunk of customers: probabilities, bands, value, reasons, lineage."""
    opts = cfg["score"]
    X = to_model_types(chunk, scorer.features)
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
    out = pd.concat([out, reasons_for(X, scorer, opts["with_reasons"])], axis=1)
    out["model_name"] = scorer.churn.name
    out["model_version"] = scorer.churn.version
    out["run_id"] = scorer.churn.run_id
    out["feature_set_hash"] = scorer.feature_set_hash
    return out


def reasons_for(X: pd.DataFrame, scorer: Scorer, with_reasons: bool) -> pd.DataFrame:
    """reason_1..3 with feature, value (as text), SHAP and family; empty columns when off."""
    if with_reasons:
        codes = reason_codes(explain(scorer.churn.model, X), X, scorer.features)
    else:
        codes = pd.DataFrame(index=X.index)
    out = {}
    for k in (1, 2, 3):
        for part, kind in (("", str), ("_feature", str), ("_value", str), ("_shap", float)):
            name = f"reason_{k}{part}"
            column = codes[name] if name in codes else pd.Series(None, index=X.index)
            if kind is float:
                out[name] = column.astype("float64")
            else:
                out[name] = column.map(lambda v: None if v is None else str(v)).astype(object)
        name = f"reason_{k}_family"
        out[name] = codes[name] if name in codes else pd.Series(None, index=X.index, dtype=object)
    return pd.DataFrame(out, index=X.index)


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


def mark_treatment(staging: Path, calls: set, controls: set) -> None:
    """Second pass over the staged parts: who is called, who is control."""
    for part in sorted(staging.glob("part-*.parquet")):
        frame = pd.read_parquet(part)
        ids = frame["customer_id"]
        frame["treatment_group"] = np.where(
            ids.isin(calls), "call", np.where(ids.isin(controls), "control", "none")
        )
        frame.to_parquet(part, index=False)


def write_csvs(staging: Path, call_list: pd.DataFrame) -> None:
    """scores.csv for CRM import (documented columns, streamed part by part) and call_list.csv."""
    writer = None
    for part in sorted(staging.glob("part-*.parquet")):
        table = pq.read_table(part, columns=CSV_COLUMNS)
        if writer is None:
            writer = pacsv.CSVWriter(staging / "scores.csv", table.schema)
        writer.write_table(table)
    if writer is not None:
        writer.close()
    call_list.to_csv(staging / "call_list.csv", index=False)


def publish_table(con, staging: Path, as_of: dt.date) -> None:
    """Replace the as_of slice of the warehouse `scores` table in one transaction."""
    if con.name != "duckdb":
        log.warning("scores table: only DuckDB warehouses get one for now (%s)", con.name)
        return
    raw = con.con
    parts = str(staging / "part-*.parquet")
    raw.execute(
        f"CREATE TABLE IF NOT EXISTS scores AS SELECT * FROM read_parquet('{parts}') LIMIT 0"
    )
    have = {r[0] for r in raw.execute("DESCRIBE scores").fetchall()}
    incoming = raw.execute(f"DESCRIBE SELECT * FROM read_parquet('{parts}')").fetchall()
    raw.execute("BEGIN TRANSACTION")
    try:
        for name, kind, *_ in incoming:
            if name not in have:
                raw.execute(f'ALTER TABLE scores ADD COLUMN "{name}" {kind}')
        raw.execute("DELETE FROM scores WHERE as_of = ?", [as_of])
        raw.execute(f"INSERT INTO scores BY NAME SELECT * FROM read_parquet('{parts}')")
        raw.execute("COMMIT")
    except Exception:
        raw.execute("ROLLBACK")
        raise


def score_base(cfg: Mapping) -> dict[str, Any]:
    """The whole job; returns a summary. Nothing is visible until everything is written."""
    from churn.warehouse import connection

    opts = cfg["score"]
    if opts["engine"] not in ("duckdb", "spark"):
        raise ChurnError(f"score.engine={opts['engine']!r}: use duckdb or spark")
    if opts["engine"] == "spark":
        raise ChurnError("score.engine=spark is not built yet: use score.engine=duckdb")
    if opts["chunk_rows"] < 1:
        raise ChurnError("score.chunk_rows must be at least 1")
    scorer = load_scorer(cfg)
    scores_dir = Path(cfg["paths"]["scores_dir"])
    for stale in stale_staging(scores_dir):
        log.info("removing %s left by an interrupted run", stale)
        shutil.rmtree(stale, ignore_errors=True)
    started = time.perf_counter()
    with connection(cfg["warehouse"]) as con:
        as_of = resolve_as_of(warehouse_tables(con), opts["as_of"], cfg["data"].get("load_date"))
        staging = scores_dir / f".as_of={as_of.isoformat()}.tmp-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:
            summary = score_into(con, cfg, scorer, as_of, staging)
            if summary["drift_blocked"]:
                return summary
            if opts["publish_table"]:
                publish_table(con, staging, as_of)
            target = scores_dir / f"as_of={as_of.isoformat()}"
            swap_dir(staging, target)
            summary["path"] = str(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    summary["job_wall_s"] = time.perf_counter() - started
    return summary


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
    """Build features, score them chunk by chunk into staging, then drift, call list and CSVs."""
    opts = cfg["score"]
    features_path = build_scoring_features(con, cfg, as_of, scorer, staging)
    source = pq.ParquetFile(features_path)
    check_columns(source.schema_arrow, scorer.features)
    total = source.metadata.num_rows
    if total == 0:
        raise ChurnError(f"no active customer at {as_of}: nothing to score")
    drift = DriftCounter(scorer.reference)
    candidates = []
    scoring_s = 0.0
    with scoring_bar() as bar:
        task = bar.add_task(f"scoring as of {as_of}", total=total, rate="")
        for i, batch in enumerate(source.iter_batches(batch_size=opts["chunk_rows"])):
            t0 = time.perf_counter()
            chunk = batch.to_pandas()
            scored = score_chunk(chunk, scorer, cfg, as_of)
            drift.add(to_model_types(chunk, scorer.features))
            scored.to_parquet(staging / f"part-{i:05d}.parquet", index=False)
            candidates.append(top_candidates(scored, opts["capacity"]))
            scoring_s += time.perf_counter() - t0
            done = bar.tasks[task].completed + len(chunk)
            bar.update(task, completed=done, rate=f"{done / scoring_s:,.0f} rows/s")
    features_path.unlink()
    psi = drift.psi()
    worst = max(psi, key=psi.get) if psi else None
    drifted = sorted(k for k, v in psi.items() if v > opts["psi_threshold"])
    report = {
        "as_of": as_of.isoformat(),
        "threshold": opts["psi_threshold"],
        "drifted": drifted,
        "psi": dict(sorted(psi.items(), key=lambda kv: -kv[1])),
    }
    (staging / "drift.json").write_text(json.dumps(report, indent=2) + "\n")
    drift_dir = Path(cfg["paths"]["scores_dir"]) / "drift"
    drift_dir.mkdir(parents=True, exist_ok=True)
    (drift_dir / f"as_of={as_of.isoformat()}.json").write_text(json.dumps(report, indent=2) + "\n")
    log.info(
        "drift: %d of %d features over PSI %.2f (worst %s %.3f)",
        len(drifted),
        len(psi),
        opts["psi_threshold"],
        worst,
        psi.get(worst, 0.0) if worst else 0.0,
    )
    summary = {
        "as_of": as_of.isoformat(),
        "rows": total,
        "drifted": drifted,
        "scoring_s": scoring_s,
    }
    summary["drift_blocked"] = bool(drifted) and opts["fail_on_drift"]
    if summary["drift_blocked"]:
        log.error(
            "score.fail_on_drift: %s drifted; scores not published (report %s)",
            ", ".join(drifted),
            drift_dir / f"as_of={as_of.isoformat()}.json",
        )
        return summary
    pool = pd.concat(candidates, ignore_index=True)
    calls, controls = select_calls(
        pool["expected_net_value"].to_numpy(), pool["holdout"].to_numpy(), opts["capacity"]
    )
    call_ids, control_ids = (
        set(pool["customer_id"].iloc[calls]),
        set(pool["customer_id"].iloc[controls]),
    )
    mark_treatment(staging, call_ids, control_ids)
    call_list = pool.iloc[calls].assign(treatment_group="call", rank=np.arange(1, len(calls) + 1))
    write_csvs(staging, call_list[["rank", *CSV_COLUMNS]])
    summary.update(calls=len(calls), controls=len(controls))
    log.info(
        "scored %s customers as of %s: %s to call, %s held out as control",
        f"{total:,}",
        as_of,
        f"{len(calls):,}",
        f"{len(controls):,}",
    )
    return summary


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
