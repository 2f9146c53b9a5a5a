"""Score one chunk of customers: probability, band, value, expected loss, propensities, reasons
and lineage. The same function runs in the DuckDB job's loop and in Spark's `mapInPandas`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from churn.columns import TREATMENT, VALUE_COLUMN
from churn.explain.explainer import Explanation, explain, reason_codes
from churn.scoring.critical import critical_points
from churn.scoring.economics import (
    BELOW_ZERO,
    COST_TO_SERVE_ACTION,
    call_economics,
    choose_policy,
)
from churn.scoring.model import Scorer
from churn.scoring.playbook import next_actions
from churn.scoring.policy import in_holdout
from churn.scoring.weekly import POINT_COLUMNS, POINTS
from churn.training.evaluate import assign_risk_bands
from churn.training.pipeline import model_inputs
from churn.value.clv import cost_to_serve, lifetime_value
from churn.value.segments import value_segments

REASON_PARTS = ("", "_feature", "_value", "_shap", "_family")


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
            ("clv", pa.float64()),
            ("net_value", pa.float64()),
            ("value_tier", pa.string()),
            ("value_segment", pa.string()),
            ("expected_loss", pa.float64()),
            ("expected_saved_value", pa.float64()),
            ("offer_cost", pa.float64()),
            ("expected_net_value", pa.float64()),
            ("call_priority", pa.float64()),
            ("contact_rule", pa.string()),
            ("uplift", pa.float64()),
            ("uplift_action", pa.string()),
            ("policy", pa.string()),
            ("cross_sell_propensity", pa.float64()),
            ("upsell_propensity", pa.float64()),
            ("holdout", pa.bool_()),
            ("treatment_group", pa.string()),
            ("explore", pa.bool_()),
            *reasons,
            *[(c, pa.float64()) for c in POINT_COLUMNS],
            ("critical_points", pa.string()),
            ("next_action", pa.string()),
            ("max_compensation", pa.float64()),
            ("model_name", pa.string()),
            ("model_version", pa.string()),
            ("run_id", pa.string()),
            ("feature_set_hash", pa.string()),
        ]
    )


def score_chunk(
    chunk: pd.DataFrame,
    scorer: Scorer,
    cfg: Mapping,
    as_of: dt.date,
    X: pd.DataFrame | None = None,
    explanation: Explanation | None = None,
) -> pd.DataFrame:
    """One chunk of customers: probabilities, bands, value, reasons, lineage. The weekly job and
    the report both score through here; the report passes the explanation it also draws."""
    opts = cfg["score"]
    X = model_inputs(chunk, scorer.features) if X is None else X
    if "churn_probability" in chunk:  # computed by mlflow.pyfunc.spark_udf on Spark
        p = chunk["churn_probability"].to_numpy(dtype=float)
    else:
        p = scorer.churn.model.predict_proba(X)[:, 1]
    value = chunk[VALUE_COLUMN].fillna(0.0).to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "customer_id": chunk["customer_id"].to_numpy(),
            "as_of": as_of,
            "churn_probability": p,
            "risk_band": assign_risk_bands(p, cfg["risk"]["edges"], cfg["risk"]["labels"]),
            "value": value,
        }
    )
    for name in ("cross_sell", "upsell"):
        model = scorer.propensity.get(name)
        out[f"{name}_propensity"] = (
            model.model.predict_proba(X)[:, 1] if model is not None else np.nan
        )
    out = with_value(out, chunk, scorer, cfg.get("value") or {})
    # the drop in churn probability a call brings, when a response model is registered
    out["uplift"], out["uplift_action"] = predicted_uplift(scorer, X)
    decision = scorer.decision or choose_policy(
        opts.get("policy", "auto"), scorer.uplift_evidence, scorer.value_known
    )
    out["policy"] = decision.policy
    out["holdout"] = in_holdout(out["customer_id"], opts["holdout_salt"], opts["holdout_fraction"])
    out["treatment_group"] = TREATMENT[-1]  # none: the call list marks call and control later
    out["explore"] = False
    min_points = opts.get("min_reason_points", 0.5)
    reasons = reasons_for(X, scorer, opts["with_reasons"], min_points, explanation)
    out = pd.concat([out, reasons], axis=1)
    points = (cfg.get("alerts") or {}).get("critical_points") or []
    out["critical_points"] = critical_points(chunk, points)  # the job kept the usable ones
    out["next_action"], out["max_compensation"] = next_actions(
        out["reason_1_family"], out["value_tier"], cfg.get("playbook") or {}
    )
    below_zero = out["value_segment"].to_numpy(dtype=object) == BELOW_ZERO
    out.loc[below_zero, ["next_action", "max_compensation"]] = [COST_TO_SERVE_ACTION, 0.0]
    economics = call_economics(out, cfg["costs"], decision)
    out[list(economics.columns)] = economics
    if not decision.value_known:  # no money column: no money figure, rather than a made-up 0
        out[["value", "expected_loss", "max_compensation"]] = np.nan
    out["model_name"] = scorer.churn.name
    out["model_version"] = scorer.churn.version
    out["run_id"] = scorer.churn.run_id
    out["feature_set_hash"] = scorer.feature_set_hash
    return out


def with_value(out: pd.DataFrame, chunk: pd.DataFrame, scorer: Scorer, rules: Mapping):
    """CLV, net value, CLV tier and segment, and the loss if the customer leaves: their CLV
    times their risk. A model trained before CLV keeps trailing value and its tiers."""
    p, value = out["churn_probability"].to_numpy(), out["value"].to_numpy()
    n = len(out)
    if scorer.clv is None:
        tiers = (
            scorer.value_tiers.transform(value).ravel()
            if scorer.value_tiers is not None
            else np.full(n, "unknown", dtype=object)
        )
        return out.assign(
            clv=np.nan,
            net_value=np.nan,
            value_tier=tiers,
            value_segment=None,
            expected_loss=p * value,
        )
    opts = scorer.clv.options
    clv = lifetime_value(p, value, opts)
    net = clv - cost_to_serve(chunk, p, opts)
    tiers = scorer.clv.tiers.transform(clv).ravel()
    growth = out[["cross_sell_propensity", "upsell_propensity"]].max(axis=1).to_numpy()
    segment = value_segments(net, tiers, growth, rules.get("segments") or {})
    return out.assign(
        clv=clv, net_value=net, value_tier=tiers, value_segment=segment, expected_loss=p * clv
    )


def reasons_for(
    X: pd.DataFrame,
    scorer: Scorer,
    with_reasons: bool,
    min_points: float = 0.5,
    explanation: Explanation | None = None,
) -> pd.DataFrame:
    """reason_1..3 with feature, value (as text), SHAP and family; empty columns when off."""
    if not with_reasons:
        empty = np.full(len(X), None, dtype=object)
        columns = [f"reason_{k}{part}" for k in (1, 2, 3) for part in REASON_PARTS]
        return pd.DataFrame(
            {
                c: np.full(len(X), np.nan) if c.endswith("_shap") else empty
                for c in columns + list(POINT_COLUMNS)
            },
            index=X.index,
        )
    explanation = explanation if explanation is not None else explain(scorer.churn.model, X)
    codes = reason_codes(explanation, X, scorer.features, min_points=min_points)
    for k in (1, 2, 3):
        values = codes[f"reason_{k}_value"]
        codes[f"reason_{k}_value"] = values.astype(str).where(values.notna(), None)
    return codes.join(family_points(explanation, scorer.features))


def family_points(explanation: Explanation, catalog) -> pd.DataFrame:
    """Risk points per actionable driver family: what week over week compares."""
    family = {f["name"]: f["driver_family"] for f in catalog}
    points = explanation.points
    out = {}
    for column in POINT_COLUMNS:
        members = [c for c in points.columns if POINTS + family.get(c, "") == column]
        out[column] = 100 * points[members].sum(axis=1) if members else np.nan
    return pd.DataFrame(out, index=points.index)


def predicted_uplift(scorer: Scorer, X: pd.DataFrame):
    """The drop in churn probability a contact brings, and which contact: a test with several
    actions gives each customer's best one (None where no action is predicted to help)."""
    if scorer.uplift is None:
        return np.nan, None
    model = scorer.uplift.model
    if not hasattr(model, "decide"):  # the event log's one retention call
        return model.predict(X), None
    return model.decide(X)
