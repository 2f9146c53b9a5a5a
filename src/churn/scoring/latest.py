"""The latest cutoff of the features folder, scored and explained through the weekly job's own
chunk function: what the report and the notebooks read. One way to score the base."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from churn.dataset.build import load_model_table
from churn.errors import ChurnError
from churn.explain.explainer import Explanation, explain
from churn.features.value import ValueTiers
from churn.registry.models import RegisteredModel, run_artifacts
from churn.scoring.chunk import score_chunk
from churn.scoring.model import Scorer, stored_clv
from churn.scoring.publish import CSV_COLUMNS
from churn.store import catalog_path, features_folder, read_catalog
from churn.training.evaluate import with_economics
from churn.training.pipeline import model_inputs

# the scores' own columns from the probability to the expected loss, as the report reads them
FRAME_COLUMNS = [
    "customer_id",
    *CSV_COLUMNS[CSV_COLUMNS.index("churn_probability") : CSV_COLUMNS.index("expected_loss") + 1],
]


@dataclass
class Scored:
    """The latest cutoff's customers with risk, value, explanation and reasons."""

    frame: pd.DataFrame  # FRAME_COLUMNS, churn_probability named probability
    X: pd.DataFrame
    explanation: Explanation
    reasons: pd.DataFrame
    cutoff: str


# the report ranks on expected loss (on risk when value is unknown), not on a call's economics
NO_CONTACT = {"acceptance_rate": 0.0, "contact_cost": 0.0, "incentive_cost": 0.0}


def score_latest(
    model,
    data_dir: Path,
    risk: Mapping,
    min_points: float = 0.5,
    costs: Mapping | None = None,
    lineage: RegisteredModel | None = None,
    value: Mapping | None = None,
) -> Scored:
    """Score and explain every customer at the latest cutoff the features hold, through the
    weekly job's own chunk function: one way to score the base. With `lineage`, the CLV stored
    with the model values customers (`value` holds the segment rules)."""
    features_dir = features_folder(data_dir)
    if not catalog_path(features_dir).exists():
        raise ChurnError(f"no features in {features_dir}: run `churn features` (make features)")
    meta = read_catalog(features_dir)
    risk = with_economics({"risk": risk}, meta.get("inferred"))["risk"]  # null edges filled
    cutoff = meta["cutoffs"][-1]
    table = load_model_table(features_dir, [cutoff]).reset_index(drop=True)
    X = model_inputs(table, meta["features"])
    explanation = explain(model, X)
    tiers = meta.get("value_tiers")
    stored = run_artifacts(lineage.run_id, ["feature_catalog.json"]) if lineage else {}
    scorer = Scorer(
        lineage or RegisteredModel(model, "", "", "", ""),
        meta["features"],
        ValueTiers.from_dict(tiers) if tiers else None,
        meta.get("feature_set_hash") or "",
        reference={},
        clv=stored_clv(stored.get("feature_catalog.json") or {}),
    )
    opts = {
        "holdout_salt": "",
        "holdout_fraction": 0.0,
        "with_reasons": True,
        "min_reason_points": min_points,
        "policy": "expected_loss",  # the report ranks by expected loss
    }
    cfg = {"score": opts, "risk": risk, "costs": costs or NO_CONTACT, "value": value or {}}
    as_of = dt.date.fromisoformat(cutoff)
    out = score_chunk(table, scorer, cfg, as_of, X, explanation)
    frame = out[FRAME_COLUMNS].rename(columns={"churn_probability": "probability"})
    reasons = out[[c for c in out.columns if c.startswith("reason_")]]
    return Scored(frame, X, explanation, reasons, cutoff)
