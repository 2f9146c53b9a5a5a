"""Snapshot mode: a customer table that already holds attributes and a churn flag (IBM Telco).

The data config declares the id, the label (two values), the value column and every feature
column with its driver family and actionable flag; those columns are the features. Blank or
unreadable values follow each column's declared rule (`blank: zero | missing | reject`, default
reject); rejected rows go to `rejects_snapshot` with their reason and are counted, never dropped
silently. The same `validate -> features -> train -> report -> score` path then runs unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import ibis
import pandas as pd

from churn.errors import ConfigError, ValidationError
from churn.features.base import Feature
from churn.features.value import ValueTiers
from churn.validate import TableResult
from churn.warehouse import swap_tables

log = logging.getLogger(__name__)
TABLE = "snapshot"
FAMILY = "snapshot"
BLANK_RULES = ("zero", "missing", "reject")


def snapshot_features(snapshot: Mapping) -> list[Feature]:
    """The declared columns as features, in declaration order."""
    out = []
    for name, spec in snapshot["features"].items():
        try:
            out.append(
                Feature(
                    name=name,
                    family=FAMILY,
                    driver_family=spec["driver_family"],
                    actionable=bool(spec.get("actionable", False)),
                    description=spec.get("description") or name,
                    template=spec.get("template") or f"{name}: {{value}}",
                    kind=spec.get("kind", "numeric"),
                    zero_when_absent=False,
                )
            )
        except (KeyError, ValueError) as err:
            raise ConfigError(f"data.snapshot.features.{name}: {err}") from err
    return out


def read_source(snapshot: Mapping) -> pd.DataFrame:
    """Every column as text (CSV) so that blanks and odd values can be judged, not guessed."""
    path = Path(snapshot["path"])
    if not path.exists():
        raise ConfigError(f"data.snapshot.path: {path} does not exist")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, **snapshot.get("csv_options", {}))


def check_mapping(frame: pd.DataFrame, snapshot: Mapping) -> None:
    """Start-up errors in the user's own column names, naming the config key to fix."""
    wanted = {
        "data.snapshot.id": snapshot["id"],
        "data.snapshot.label.column": snapshot["label"]["column"],
    }
    if snapshot.get("value"):
        wanted["data.snapshot.value.column"] = snapshot["value"]["column"]
    wanted.update({f"data.snapshot.features.{name}": name for name in snapshot["features"]})
    missing = {key: col for key, col in wanted.items() if col not in frame.columns}
    if missing:
        listed = ", ".join(f"{col!r} ({key})" for key, col in missing.items())
        raise ConfigError(
            f"{snapshot['path']}: no column {listed}; the file has: {', '.join(frame.columns)}"
        )
    label = snapshot["label"]
    values = frame[label["column"]].astype(str).str.strip()
    allowed = {str(label["positive"]), str(label["negative"])}
    odd = values[~values.isin(allowed)]
    if len(odd):
        counts = odd.value_counts().head(5).to_dict()
        examples = frame.loc[odd.index[:5], [snapshot["id"], label["column"]]].to_dict("records")
        raise ConfigError(
            f"label column {label['column']!r} has values other than "
            f"{label['positive']!r}/{label['negative']!r}: {counts}, e.g. {examples}; "
            "fix data.snapshot.label.positive / negative"
        )
    for name, spec in snapshot["features"].items():
        if spec.get("blank", "reject") not in BLANK_RULES:
            raise ConfigError(
                f"data.snapshot.features.{name}.blank={spec['blank']!r}: use one of {BLANK_RULES}"
            )


def clean(frame: pd.DataFrame, snapshot: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed rows and rejected rows (with a reason each), following the declared blank rules."""
    reasons = pd.Series("", index=frame.index, dtype=object)
    out = pd.DataFrame({"customer_id": frame[snapshot["id"]].astype(str).str.strip()})
    duplicated = out["customer_id"].duplicated(keep=False)
    reasons[duplicated] = "duplicate customer id"
    reasons[out["customer_id"] == ""] = "blank customer id"
    numeric = {
        n: s for n, s in snapshot["features"].items() if s.get("kind", "numeric") == "numeric"
    }
    if snapshot.get("value"):
        numeric = {**numeric, "__value__": {"blank": "zero", "column": snapshot["value"]["column"]}}
    for name, spec in numeric.items():
        column = spec.get("column", name)
        text = frame[column].astype(str).str.strip()
        blank = text.isin(["", "nan", "NaN", "None"]) | frame[column].isna()
        number = pd.to_numeric(text.where(~blank), errors="coerce")
        unreadable = number.isna() & ~blank
        reasons[unreadable & (reasons == "")] = f"{column} is not a number"
        rule = spec.get("blank", "reject")
        if rule == "zero":
            number[blank] = 0.0
        elif rule == "reject":
            reasons[blank & (reasons == "")] = f"{column} is blank"
        if blank.any() and rule != "reject":
            log.info("%s: %d blank value(s) -> %s (declared rule)", column, blank.sum(), rule)
        out[name] = number.astype("float64")
    for name, spec in snapshot["features"].items():
        if spec.get("kind", "numeric") == "categorical":
            text = frame[name].astype(str).str.strip()
            out[name] = text.where(text != "", None)
    label = snapshot["label"]
    out["churn"] = frame[label["column"]].astype(str).str.strip() == str(label["positive"])
    out["churn"] = out["churn"].astype("float64")
    multiplier = float(snapshot["value"].get("multiplier", 1.0)) if snapshot.get("value") else 1.0
    out["revenue_12m"] = out.pop("__value__") * multiplier if "__value__" in out else float("nan")
    rejected = reasons != ""
    rejects = frame[rejected].assign(reject_reason=reasons[rejected])
    return out[~rejected].reset_index(drop=True), rejects.reset_index(drop=True)


def load_snapshot(con, snapshot: Mapping, max_reject_fraction: float) -> TableResult:
    """Read, check, clean and publish the snapshot table and its rejects, all or nothing."""
    frame = read_source(snapshot)
    check_mapping(frame, snapshot)
    rows, rejects = clean(frame, snapshot)
    by_reason = rejects["reject_reason"].value_counts().to_dict() if len(rejects) else {}
    result = TableResult(
        TABLE, len(frame), len(rows), by_reason, rejects.head(5) if len(rejects) else None
    )
    if result.reject_fraction > max_reject_fraction:
        raise ValidationError(
            f"table {TABLE!r}: {result.rejected:,} of {result.rows_in:,} rows rejected "
            f"({by_reason}; validate.max_reject_fraction={max_reject_fraction}); nothing loaded. "
            f"Examples:\n{rejects.head(5).to_string(index=False)}",
            table=TABLE,
        )
    tag = uuid.uuid4().hex[:8]
    staged = {TABLE: f"_stg_{TABLE}_{tag}", f"rejects_{TABLE}": f"_stg_rejects_{TABLE}_{tag}"}
    con.create_table(staged[TABLE], rows, overwrite=True)
    if len(rejects):
        con.create_table(staged[f"rejects_{TABLE}"], rejects.astype(str), overwrite=True)
    else:  # an empty frame has no types to infer: every column is text, as it was read
        schema = ibis.schema({c: "string" for c in rejects.columns})
        con.create_table(staged[f"rejects_{TABLE}"], schema=schema, overwrite=True)
    swap_tables(con, staged)
    return result


def write_snapshot_features(con, out_dir: Path, data: Mapping, fcfg: Mapping) -> dict:
    """One 'cutoff' (the snapshot's date) in the same layout and catalogue as event features."""
    from churn.dataset import feature_set_hash, swap_dir

    if TABLE not in con.list_tables():
        raise ConfigError("the warehouse has no snapshot table: run `churn validate` first")
    features = snapshot_features(data["snapshot"])
    cutoff = dt.date.fromisoformat(str(data["load_date"]))
    frame = con.table(TABLE).to_pandas()
    frame.insert(1, "cutoff", cutoff)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}")
    part = tmp / f"cutoff={cutoff.isoformat()}"
    part.mkdir(parents=True)
    columns = ["customer_id", "cutoff", *[f.name for f in features], "revenue_12m", "churn"]
    frame[columns].to_parquet(part / "part-0.parquet", index=False)
    tiers = None
    if frame["revenue_12m"].notna().any():
        tiers = ValueTiers(tuple(fcfg["value_tier_quantiles"])).fit(frame[["revenue_12m"]])
    meta = {
        "mode": "snapshot",
        "families": [FAMILY],
        "data_end": cutoff.isoformat(),
        "cutoffs": [cutoff.isoformat()],
        "labelled_cutoffs": [cutoff.isoformat()],
        "rows": {cutoff.isoformat(): len(frame)},
        "feature_set_hash": feature_set_hash(features),
        "value_tiers": tiers.to_dict() if tiers else None,
        "features": [asdict(f) for f in features],
    }
    (tmp / "catalog.json").write_text(json.dumps(meta, indent=2) + "\n")
    swap_dir(tmp, out_dir)
    log.info("wrote %s snapshot rows with %d declared features", f"{len(frame):,}", len(features))
    return meta


def scoring_table(con, as_of: dt.date):
    """The loaded snapshot, as the features to score (the same columns training read)."""
    if TABLE not in con.list_tables():
        raise ConfigError("the warehouse has no snapshot table: run `churn validate` first")
    return con.table(TABLE).mutate(cutoff=ibis.date(as_of))


def run_validate_snapshot(cfg) -> list[TableResult]:
    """`churn validate` for a snapshot table: load it, report counts and rejects by reason."""
    from omegaconf import OmegaConf

    from churn.validate import log_results, summarize
    from churn.warehouse import connection

    data = OmegaConf.to_container(cfg.data, resolve=True)
    if not data.get("snapshot"):
        raise ConfigError("data.mode=snapshot needs a data.snapshot section (see data/custom.yaml)")
    if not data.get("load_date"):
        raise ConfigError("data.mode=snapshot needs data.load_date: the date the table describes")
    with connection(OmegaConf.to_container(cfg.warehouse, resolve=True)) as con:
        result = load_snapshot(con, data["snapshot"], cfg.validate.max_reject_fraction)
    log_results([result])
    report = Path(cfg.paths.data_dir) / "validation_report.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    summary = {"load_date": str(data["load_date"]), "tables": summarize([result])}
    report.write_text(json.dumps(summary, indent=2) + "\n")
    return [result]
