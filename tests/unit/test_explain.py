"""Reason codes and driver families on a hand-made explanation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn.explain.explainer import Explanation, driver_families, global_drivers, reason_codes, say

CATALOG = [
    {
        "name": "complaints_unresolved",
        "driver_family": "complaints",
        "actionable": True,
        "template": "{value:.0f} unresolved complaints",
    },
    {
        "name": "price_increase_90d",
        "driver_family": "price",
        "actionable": True,
        "template": "a price increase in the last 90 days",
    },
    {
        "name": "tenure_days",
        "driver_family": "early_life",
        "actionable": False,
        "template": "{value:.0f} days as a customer",
    },
]
COLS = [f["name"] for f in CATALOG]


def explanation() -> tuple[Explanation, pd.DataFrame]:
    shap = pd.DataFrame([[0.8, 0.3, 2.0], [-0.5, -0.1, 1.0]], columns=COLS)
    points = shap * 0.05
    X = pd.DataFrame([[3.0, 1.0, 40.0], [0.0, 0.0, 900.0]], columns=COLS)
    return Explanation(shap, points, -3.0, np.array([0.4, 0.1])), X


def test_reasons_are_actionable_ranked_and_only_raise_risk():
    expl, X = explanation()
    codes = reason_codes(expl, X, CATALOG)
    # tenure has the largest SHAP but is fixed: never a reason to act on
    assert codes.loc[0, "reason_1"] == "3 unresolved complaints (+4 pts risk)"
    assert codes.loc[0, "reason_2"] == "a price increase in the last 90 days (+2 pts risk)"
    assert codes.loc[0, "reason_1_family"] == "complaints"
    assert codes.loc[0, "reason_1_shap"] == 0.8
    assert codes.loc[1, "reason_1"] is None  # nothing actionable raises customer 2's risk


def test_driver_families_add_up_features_and_can_drop_fixed_ones():
    expl, _ = explanation()
    fam = driver_families(expl.shap, CATALOG)
    assert fam.loc[0, "complaints"] == 0.8 and fam.loc[0, "early_life"] == 2.0
    per_feature, per_family = global_drivers(expl.shap, CATALOG, actionable_only=True)
    assert "tenure_days" not in per_feature.index
    assert per_family.index[0] == "complaints"


def test_missing_values_are_said_as_unknown():
    assert say("no purchase for {value:.0f} days", float("nan")) == "no purchase for unknown"


def test_one_reason_per_driver_family():
    catalog = [
        *CATALOG,
        {
            "name": "complaints_90d",
            "driver_family": "complaints",
            "actionable": True,
            "template": "{value:.0f} complaints in the last 90 days",
        },
    ]
    shap = pd.DataFrame([[0.8, 0.3, 2.0, 0.7]], columns=[f["name"] for f in catalog])
    X = pd.DataFrame([[3.0, 1.0, 40.0, 4.0]], columns=shap.columns)
    expl = Explanation(shap, shap * 0.05, -3.0, np.array([0.4]))
    codes = reason_codes(expl, X, catalog)
    # complaints_90d (0.7) beats the price rise (0.3) but repeats the complaints family
    assert list(codes.loc[0, ["reason_1_feature", "reason_2_feature"]]) == [
        "complaints_unresolved",
        "price_increase_90d",
    ]
    assert codes.loc[0, "reason_3"] is None
