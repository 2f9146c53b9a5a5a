"""Model pipelines: the estimator from `_target_`, preprocessing fit for the model's kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.training.pipeline import build_pipeline

XGB = {
    "preprocess": "tree",
    "estimator": {
        "_target_": "xgboost.XGBClassifier",
        "n_estimators": 20,
        "max_depth": 2,
        "n_jobs": 1,
        "random_state": 0,
    },
}
LOGREG = {
    "preprocess": "linear",
    "estimator": {"_target_": "sklearn.linear_model.LogisticRegression", "max_iter": 500},
}


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "complaints_unresolved": rng.poisson(0.3, n).astype(float),
            "recency_days": np.where(rng.random(n) < 0.2, np.nan, rng.exponential(30, n)),
            "signal": x,
            "region": rng.choice(["north", "south"], n),
            "churn": (x + rng.normal(scale=0.5, size=n) > 1).astype(int),
        }
    )


@pytest.mark.parametrize("cfg", [XGB, LOGREG], ids=["xgboost", "logreg"])
def test_pipeline_learns_and_tolerates_missing_and_unseen(frame, cfg):
    pipe = build_pipeline(cfg, ["complaints_unresolved", "recency_days", "signal"], ["region"])
    X = frame.drop(columns="churn")
    pipe.fit(X, frame.churn)
    p = pipe.predict_proba(X)[:, 1]
    assert np.corrcoef(p, frame.signal)[0, 1] > 0.5
    unseen = X.head(3).assign(region="atlantis")
    assert pipe.predict_proba(unseen).shape == (3, 2)


def test_unknown_preprocessing_names_the_key():
    with pytest.raises(ValueError, match="model.preprocess"):
        build_pipeline({**XGB, "preprocess": "magic"}, ["a"], [])


def test_search_params_replace_estimator_settings_without_touching_the_input():
    from churn.training.search import suggest, with_params

    cfg = {"model": {"estimator": {"max_depth": 4, "n_estimators": 10}}}
    out = with_params(cfg, {"max_depth": 2})
    assert out["model"]["estimator"] == {"max_depth": 2, "n_estimators": 10}
    assert cfg["model"]["estimator"]["max_depth"] == 4

    class Trial:
        def suggest_int(self, name, low, high):
            return low

        def suggest_float(self, name, low, high, log=False):
            return high

    space = {
        "max_depth": {"type": "int", "low": 2, "high": 6},
        "learning_rate": {"type": "float", "low": 0.01, "high": 0.3, "log": True},
    }
    assert suggest(Trial(), space) == {"max_depth": 2, "learning_rate": 0.3}


def test_tree_preprocessing_codes_each_category_feature_in_one_column_missing_stays_missing():
    """No dense one-hot frame for trees: one column per input feature, and a missing or unseen
    category is missing (XGBoost routes it) rather than a code shared with a real category."""
    pipe = build_pipeline(XGB, ["signal"], ["region"])
    X = pd.DataFrame(
        {"signal": np.arange(60, dtype=float), "region": ["north", "south", "west"] * 20}
    )
    y = (X.region == "south").astype(int)
    pipe.fit(X, y)
    encoded = pipe[:-1].transform(
        pd.DataFrame({"signal": [1.0, 2.0, 3.0], "region": ["south", None, "atlantis"]})
    )
    assert encoded.shape == (3, 2)
    assert list(pipe[:-1].get_feature_names_out()) == ["signal", "region"]
    assert encoded[0, 1] == 1.0  # codes in sorted order: north 0, south 1, west 2
    assert np.isnan(encoded[1, 1]) and np.isnan(encoded[2, 1])
    p = pipe.predict_proba(X)[:, 1]
    assert p[y == 1].min() > p[y == 0].max()  # the category alone separates the classes
