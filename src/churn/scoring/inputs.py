"""What the job feeds the model: the source's own features at `as_of` (`sources`), checked
against the feature set and the columns the model was trained on. Types are cast by
`pipeline.model_inputs`, the one cast that training, the report and scoring share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pyarrow as pa

from churn.columns import VALUE_COLUMN
from churn.dataset.sources import default_as_of, scoring_snapshot
from churn.errors import ChurnError
from churn.scoring.model import Scorer, check_feature_set


def resolve_as_of(con, cfg: Mapping) -> dt.date:
    """`score.as_of` when set, else the source's own default date."""
    declared = cfg["score"]["as_of"]
    return dt.date.fromisoformat(str(declared)) if declared else default_as_of(con, cfg)


def scoring_expression(con, cfg: Mapping, as_of: dt.date, scorer: Scorer):
    """The source's features at as_of, refused when they are not the model's feature set."""
    expr, built = scoring_snapshot(con, cfg, as_of)
    check_feature_set(built, scorer)
    return expr


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
