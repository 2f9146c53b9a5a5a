"""What the job feeds the model: the training code's own snapshot at `as_of`, checked against
the columns the model was trained on. Types are cast by `pipeline.model_inputs`, the one cast
that training, the report and scoring share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from churn.columns import VALUE_COLUMN
from churn.data_config import data_mode
from churn.dataset import build_snapshot, data_end_date, feature_set_hash, warehouse_tables
from churn.errors import ChurnError
from churn.features import available_families, catalog
from churn.scoring.model import Scorer, check_feature_set


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
