"""Every kind of booster, and their blend, explains exactly and stores as skops with our types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.explain.explainer import explain
from churn.registry.trust import check_trusted
from churn.training.backtest import calibrate_out_of_fold
from churn.training.blend import blend_config
from churn.training.kinds import fit_with_curve, margin, mean_curve
from churn.training.pipeline import build_pipeline

XGB = {
    "_target_": "xgboost.XGBClassifier",
    "n_estimators": 60,
    "max_depth": 4,
    "n_jobs": 1,
    "random_state": 0,
}
LGBM = {
    "_target_": "lightgbm.LGBMClassifier",
    "n_estimators": 60,
    "num_leaves": 12,
    "min_child_samples": 5,
    "verbose": -1,
    "n_jobs": 1,
    "random_state": 0,
}
CAT = {
    "_target_": "catboost.CatBoostClassifier",
    "iterations": 60,
    "depth": 4,
    "verbose": 0,
    "allow_writing_files": False,
    "thread_count": 1,
    "random_seed": 0,
}
KINDS = {
    "xgboost": XGB,
    "lightgbm": LGBM,
    "catboost": CAT,
    "blend": blend_config([XGB, LGBM, CAT], [0.5, 0.3, 0.2]),
}


def table(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "complaints": rng.poisson(1.0, n).astype(float),
            "price": rng.normal(50, 10, n),
            "tenure": rng.integers(1, 72, n).astype(float),
            "plan": rng.choice(["basic", "premium", "family"], n).astype(object),
        }
    )
    frame.loc[rng.random(n) < 0.1, "price"] = np.nan
    logit = -1.5 + 0.8 * frame["complaints"] - 0.03 * frame["tenure"] + (frame["plan"] == "basic")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    return frame, y


@pytest.mark.parametrize("kind", list(KINDS))
def test_reasons_add_up_to_the_log_odds_for_every_kind(kind):
    X, y = table()
    pipe = build_pipeline(
        {"preprocess": "tree", "estimator": KINDS[kind]},
        ["complaints", "price", "tenure"],
        ["plan"],
    )
    pipe.fit(X, y)
    p = pipe.predict_proba(X)[:, 1]
    model = calibrate_out_of_fold(pipe, p, y)
    found = explain(model, X)
    encoded = pipe[:-1].transform(X)
    own = pipe[-1].margin(encoded) if kind == "blend" else margin(pipe[-1], encoded)
    added = found.shap.sum(axis=1).to_numpy() + found.base_margin
    # within 1e-6 (relative for XGBoost, which adds up its own margin in float32)
    assert (np.abs(added - own) / np.maximum(1.0, np.abs(own))).max() < 1e-6
    assert np.allclose(found.probability, model.predict_proba(X)[:, 1], atol=1e-9)
    # price plays no part in churn here: it is the weakest reason, whatever the kind
    assert found.shap.abs().mean().idxmin() == "price"
    needed = check_trusted(model)
    assert any(kind in t or kind == "blend" for t in needed)


def test_the_blend_is_the_weighted_log_odds_of_its_members():
    X, y = table()
    numbers, plan = ["complaints", "price", "tenure"], ["plan"]
    blend = build_pipeline({"preprocess": "tree", "estimator": KINDS["blend"]}, numbers, plan)
    blend.fit(X, y)
    encoded = blend[:-1].transform(X)
    members = blend[-1].estimators_
    expected = 0.5 * margin(members[0], encoded) + 0.3 * margin(members[1], encoded)
    expected += 0.2 * margin(members[2], encoded)
    assert np.allclose(blend[-1].margin(encoded), expected)


@pytest.mark.parametrize("kind", ["xgboost", "lightgbm", "catboost"])
def test_each_kind_records_its_validation_curve_and_stops_early(kind):
    X, y = table(2000)
    encoded = X.assign(plan=X["plan"].map({"basic": 0, "premium": 1, "family": 2})).to_numpy()
    estimator, curve = fit_with_curve(
        KINDS[kind], encoded[:1500], y[:1500], encoded[1500:], y[1500:], 2000, 20
    )
    assert 20 < len(curve) < 2000 and curve.max() > 0.65
    best = int(np.argmax(curve)) + 1
    assert margin(estimator, encoded[1500:], best).shape == (500,)
    assert np.allclose(mean_curve([np.array([0.6, 0.7]), np.array([0.5])]), [0.55, 0.6])
