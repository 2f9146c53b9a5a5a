"""The response model: how much a retention call lowers each customer's churn probability.

An econml meta-learner (named by `uplift.learner._target_`) on the same features and the same
tree preprocessing as the churn model, fitted on randomized calls: called against held out. It is
an sklearn estimator, so MLflow stores it with skops like every other churn model.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from churn.training.pipeline import ordinal


class RetentionUplift(BaseEstimator):
    """`predict` is the drop in churn probability a call brings: positive when the call saves
    the customer, negative when it pushes them to leave (sleeping dogs)."""

    def __init__(self, preprocess=None, learner=None):
        self.preprocess = preprocess
        self.learner = learner

    def fit(self, X: pd.DataFrame, y, treatment):
        self.preprocess_ = clone(self.preprocess).fit(X)
        inputs = self.preprocess_.transform(X)
        self.learner_ = copy.deepcopy(self.learner)  # econml learners are not sklearn-clonable
        # no inference object: econml's keeps a reference back to its learner (skops cannot store
        # the cycle), and the intervals here come from the bootstrap on the test
        y, treatment = np.asarray(y, dtype=float), np.asarray(treatment, dtype=int)
        self.learner_.fit(y, treatment, X=inputs, inference=None)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        effect = self.learner_.effect(self.preprocess_.transform(X))  # called minus not called
        return -np.asarray(effect, dtype=float).ravel()


def finite_preprocessor(numeric: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """The churn trees' coding, made finite (econml refuses missing values): a missing number
    becomes the median plus a missing-indicator column, a missing or unseen category code -1."""
    return ColumnTransformer(
        [
            ("numeric", SimpleImputer(strategy="median", add_indicator=True), list(numeric)),
            (
                "categorical",
                make_pipeline(ordinal(), SimpleImputer(strategy="constant", fill_value=-1.0)),
                list(categorical),
            ),
        ],
        verbose_feature_names_out=False,
    )


def finite_inputs(features: Sequence[Mapping]) -> ColumnTransformer:
    """`finite_preprocessor` for a feature catalogue's numbers and categories."""
    numeric = [f["name"] for f in features if f["kind"] == "numeric"]
    categorical = [f["name"] for f in features if f["kind"] != "numeric"]
    return finite_preprocessor(numeric, categorical)


def build_uplift_model(opts: Mapping, features: Sequence[Mapping]) -> RetentionUplift:
    return RetentionUplift(
        preprocess=finite_inputs(features), learner=instantiate(opts["learner"], _convert_="all")
    )
