"""Proof that the explanations recover the simulator's planted drivers (a test, not a picture)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from churn.explain.explainer import driver_families, global_drivers, reason_codes, tree_shap
from churn.training.pipeline import model_inputs

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo_world")]

# planted driver -> (the observable feature that carries it, +1 if the feature grows with it[,
# the driver family whose SHAP is checked when the effect is spread over correlated features]);
# `feature==v` is the indicator of a binary planted trait (phone-only: every contact by phone)
PROXIES = {
    "unresolved_complaints": ("complaints_unresolved", 1),
    "repeat_complaints": ("complaints_repeat_365d", 1),
    "usage_decline": ("days_since_last_interaction", 1),
    "phone_only": ("share_phone_365d==1", 1, "channel_friction"),
    "single_channel": ("channel_entropy_365d", -1),
    "price_increase": ("price_increase_90d", 1),
    "early_life": ("tenure_days", -1),
    "products": ("active_products", 1),
    "loyalty_member": ("loyalty_member", 1),
    "loyalty_redemption": ("redeemed_90d", 1),
    "referrals": ("referrals_made", 1),
}
SIGN_CHECK_MIN_STRENGTH = 0.1


@pytest.fixture(scope="module")
def explained(world, xgb):
    _, objects = xgb
    meta = json.loads((world / "features" / "catalog.json").read_text())
    frames = [
        pd.read_parquet(world / "features" / f"cutoff={c}" / "part-0.parquet")
        for c in meta["cutoffs"][-3:]
    ]
    X = model_inputs(pd.concat(frames, ignore_index=True), meta["features"])
    truth = json.loads((world / "raw" / "ground_truth.json").read_text())
    return X, tree_shap(objects["model"], X), meta["features"], truth


def test_shap_is_exact_and_adds_up_to_the_margin(explained, xgb):
    X, expl, _, _ = explained
    pipe = xgb[1]["model"].calibrated_classifiers_[0].estimator.estimator
    margin = pipe.predict_proba(X)[:, 1]
    logit = np.log(margin / (1 - margin))
    np.testing.assert_allclose(expl.shap.sum(axis=1) + expl.base_margin, logit, atol=1e-3)
    np.testing.assert_allclose(
        expl.points.sum(axis=1), expl.probability - expl.base_probability, atol=1e-9
    )


GAP = (
    "known gap: phone-only customers have no logins or visits, so those counts (channel friction "
    "too) carry the phone-only risk and share_phone_365d is left with the opposite sign"
)


def test_top_planted_drivers_are_among_the_top_driver_families(explained):
    _, expl, catalog, truth = explained
    _, families = global_drivers(expl.shap, catalog)
    top_families = list(families.index[:5])
    planted = [d["driver_family"] for d in truth["churn_drivers"][:3]]
    assert set(planted) <= set(top_families), (planted, list(families.round(3).items()))


def proxy_values(X: pd.DataFrame, feature: str) -> pd.Series:
    """A feature column, or for `name==v` the 0/1 indicator of that value (missing stays so)."""
    name, _, equals = feature.partition("==")
    values = X[name].astype(float)
    if not equals:
        return values
    return (values == float(equals)).astype(float).where(values.notna())


@pytest.mark.parametrize("driver", list(PROXIES))
def test_shap_dependence_follows_the_planted_direction(explained, driver):
    X, expl, catalog, truth = explained
    planted = {d["name"]: d for d in truth["churn_drivers"]}[driver]
    if planted["strength"] < SIGN_CHECK_MIN_STRENGTH:
        pytest.skip(f"{driver} is planted weaker than {SIGN_CHECK_MIN_STRENGTH}")
    feature, orientation, *family = PROXIES[driver]
    values = proxy_values(X, feature)
    known = values.notna()
    contribution = driver_families(expl.shap, catalog)[family[0]] if family else expl.shap[feature]
    rho = spearmanr(values[known], contribution[known]).statistic
    assert np.sign(rho) == planted["sign"] * orientation, (feature, family, rho)


@pytest.mark.xfail(strict=True, reason=GAP)
def test_phone_share_alone_follows_the_planted_direction(explained):
    """The feature-level view of phone-only: documents the gap the family-level check closes."""
    X, expl, _, _ = explained
    known = X["share_phone_365d"].notna()
    rho = spearmanr(X.loc[known, "share_phone_365d"], expl.shap.loc[known, "share_phone_365d"])
    assert rho.statistic > 0


def test_reason_codes_are_actionable_sentences_that_raise_risk(explained):
    X, expl, catalog, _ = explained
    codes = reason_codes(expl, X.head(200), catalog)
    actionable = {f["name"] for f in catalog if f["actionable"]}
    assert codes["reason_1_feature"].dropna().isin(actionable).all()
    assert (codes["reason_1_shap"].dropna() > 0).all()
    assert "tenure_days" not in set(codes.filter(like="_feature").stack())
    sentence = codes["reason_1"].dropna().iloc[0]
    assert sentence.endswith("pts risk)")
