"""Snapshot mode: a customer table that already holds attributes and a churn flag.

Two lines of config are enough (`snapshot: {path: ..., label: {column: ...}}`): the id, column
kinds, missing tokens, the label's positive value, driver families and the value column are
inferred (`infer.py`, `vocabulary.py`), checked for leakage and duplicates (`checks.py`), loaded
with rejects (`load.py`) and published as one cutoff of features (`publish.py`). The same
`validate -> features -> train -> report -> score` path then runs unchanged.
"""

from churn.snapshot.load import TABLE, check_mapping, clean, read_source
from churn.snapshot.publish import (
    resolved_spec,
    run_snapshot_features,
    run_validate_snapshot,
    scoring_table,
    snapshot_features,
    write_snapshot_features,
)

__all__ = [
    "TABLE",
    "check_mapping",
    "clean",
    "read_source",
    "resolved_spec",
    "run_snapshot_features",
    "run_validate_snapshot",
    "scoring_table",
    "snapshot_features",
    "write_snapshot_features",
]
