"""The tabulated TreeSHAP and the linear SHAP are exact, not approximations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

from churn.explain.explainer import explain, top_columns
from churn.explain.shap_table import ShapTable, shap_by_column
from churn.training.pipeline import build_pipeline


def toy(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan  # XGBoost routes missing values by default direction
    X[:, 4] = rng.integers(0, 2, n)  # a 0/1 column like one-hot
    logit = np.nan_to_num(X[:, 0] * X[:, 1] + X[:, 2] - X[:, 4])
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.mark.parametrize("depth", [1, 2, 3, 6])
def test_tabulated_shap_equals_xgboost_treeshap(depth):
    X, y = toy()
    booster = xgb.XGBClassifier(n_estimators=40, max_depth=depth, max_bin=32).fit(X, y)
    booster = booster.get_booster()
    table = ShapTable.build(booster, X.shape[1])
    # rows exactly on, just above and just below every threshold, where a bin error would show
    rng = np.random.default_rng(1)
    probe = X.copy()
    for c, thresholds in enumerate(table.thresholds):
        if len(thresholds):
            edges = np.concatenate(
                [
                    thresholds,
                    np.nextafter(thresholds, np.float32(np.inf)),
                    np.nextafter(thresholds, np.float32(-np.inf)),
                ]
            )
            probe[::2, c] = rng.choice(edges, len(probe[::2]))
    ours, base = shap_by_column(booster, probe)
    reference = booster.predict(xgb.DMatrix(probe), pred_contribs=True)
    np.testing.assert_allclose(ours, reference[:, :-1], atol=1e-5)
    assert base == pytest.approx(float(reference[0, -1]), abs=1e-6)


def test_shallow_trees_are_looked_up_and_deep_ones_explained_row_by_row():
    X, y = toy()
    shallow = xgb.XGBClassifier(n_estimators=20, max_depth=2, max_bin=16).fit(X, y)
    deep = xgb.XGBClassifier(n_estimators=20, max_depth=8).fit(X, y)
    assert not ShapTable.build(shallow.get_booster(), X.shape[1]).direct
    assert ShapTable.build(deep.get_booster(), X.shape[1]).direct


@pytest.mark.parametrize("missing", [False, True], ids=["complete", "with_missing_values"])
def test_linear_shap_adds_up_to_the_logit_and_is_zero_on_average(missing):
    X, y = toy()
    frame = pd.DataFrame(np.nan_to_num(X[:, :4]), columns=list("abcd"))
    if missing:  # the imputer adds missingindicator_a, traced back to a
        frame.loc[frame.index % 7 == 0, "a"] = np.nan
    frame["plan"] = np.where(X[:, 4] > 0, "premium", "basic")
    cfg = {
        "preprocess": "linear",
        "estimator": {"_target_": LogisticRegression.__module__ + ".LogisticRegression"},
    }
    pipe = build_pipeline(cfg, list("abcd"), ["plan"]).fit(frame, y)
    expl = explain(pipe, frame)
    logit = pipe.decision_function(frame)
    np.testing.assert_allclose(expl.shap.sum(axis=1) + expl.base_margin, logit, atol=1e-9)
    np.testing.assert_allclose(expl.shap.mean(), 0.0, atol=1e-9)
    assert list(expl.shap.columns) == [*"abcd", "plan"]


def test_top_columns_picks_the_largest_in_order_with_stable_ties():
    values = np.array([[0.1, 0.5, 0.5, -1.0], [3.0, 2.0, 1.0, 0.0]])
    np.testing.assert_array_equal(top_columns(values, 3), [[1, 2, 0], [0, 1, 2]])
    assert top_columns(values, 0).shape == (2, 0)
