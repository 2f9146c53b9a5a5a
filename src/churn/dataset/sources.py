"""The two kinds of source, chosen once per step: raw CRM event tables (validated table by
table, then features at every cutoff) or one customer table with a churn flag (snapshot mode:
inferred, checked and published as one cutoff). Both answer the same questions for the
`validate`, `features` and `score` steps (load, features per cutoff, features at as_of, the
default scoring date), so nothing further down the flow asks which kind it was given."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from churn.data_config import data_mode
from churn.dataset.build import (
    build_snapshot,
    data_end_date,
    warehouse_tables,
)
from churn.dataset.features_job import run_event_features
from churn.errors import ChurnError
from churn.features import available_families, catalog, feature_set_hash
from churn.snapshot import (
    resolved_spec,
    run_snapshot_features,
    run_validate_snapshot,
    scoring_table,
    snapshot_features,
)
from churn.validate import run_validate_events


def run_validate(cfg) -> list:
    """`churn validate`: load the configured source into the warehouse, rejects kept."""
    if data_mode(cfg.data) == "snapshot":
        return run_validate_snapshot(cfg)
    return run_validate_events(cfg)


def run_features(cfg) -> dict:
    """`churn features`: point-in-time features for every cutoff the source has."""
    if data_mode(cfg.data) == "snapshot":
        return run_snapshot_features(cfg)
    return run_event_features(cfg)


def default_as_of(con, cfg: Mapping) -> dt.date:
    """The day scored when `score.as_of` is not set: for event tables the day after the latest
    data, so every loaded row counts; for a customer table the day it was loaded."""
    load_date = cfg["data"].get("load_date")
    if data_mode(cfg["data"]) == "snapshot":
        return dt.date.fromisoformat(str(load_date or resolved_spec(data_dir(cfg))["as_of"]))
    return data_end_date(warehouse_tables(con), load_date) + dt.timedelta(days=1)


def scoring_snapshot(con, cfg: Mapping, as_of: dt.date):
    """The training code's features at as_of, on whichever backend `con` is, and the hash of
    the feature set they make (to check against the model's)."""
    if data_mode(cfg["data"]) == "snapshot":
        spec = resolved_spec(data_dir(cfg))
        return scoring_table(con, as_of), feature_set_hash(snapshot_features(spec))
    tables = warehouse_tables(con)
    if "customers" not in tables:
        raise ChurnError("the warehouse has no customers table: run `churn validate` first")
    fcfg = cfg["features"]
    families = available_families(tables, list(fcfg["families"]) or None, announce=False)
    built = feature_set_hash(catalog(families, tuple(fcfg["windows"]), tables))
    data_end = as_of - dt.timedelta(days=1)
    expr = build_snapshot(tables, as_of, fcfg, cfg["labels"], cfg["cutoffs"], data_end, families)
    return expr, built


def data_dir(cfg: Mapping) -> Path:
    return Path(cfg["paths"]["data_dir"])
