"""The two kinds of source, chosen once per step: raw CRM event tables (validated table by
table, then features at every cutoff) or one customer table with a churn flag (snapshot mode:
inferred, checked and published as one cutoff). Both answer the same `validate` and `features`
steps, so nothing further down the flow asks which kind it was given."""

from __future__ import annotations

from churn.data_config import data_mode
from churn.dataset import run_event_features
from churn.snapshot import run_snapshot_features, run_validate_snapshot
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
