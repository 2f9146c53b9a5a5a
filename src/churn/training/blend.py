"""A blend of boosted trees of different kinds, averaged in log-odds.

`LogOddsBlend` is an sklearn classifier: its margin is the weighted sum of its members' margins,
its probability the logistic of that margin. Because each member's exact TreeSHAP adds up to its
margin, the same weights applied to the members' SHAP values add up to the blend's margin: the
reasons stay exact (`churn.explain.members`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from churn.training.kinds import margin

BLEND_TARGET = "churn.training.blend.LogOddsBlend"


class LogOddsBlend(ClassifierMixin, BaseEstimator):
    """Members fitted on the same rows; P(churn) = logistic(sum of weight x member log-odds)."""

    def __init__(self, estimators: Sequence = (), weights: Sequence[float] = ()):
        self.estimators = estimators
        self.weights = weights

    def fit(self, X, y):
        if len(self.estimators) != len(self.weights) or not len(self.estimators):
            raise ValueError("a blend needs one weight per member and at least one member")
        self.estimators_ = [clone(e).fit(X, y) for e in self.estimators]
        self.weights_ = np.asarray(self.weights, dtype=float)
        self.classes_ = np.array([0, 1])
        return self

    def margin(self, X) -> np.ndarray:
        """The blend's log-odds: each member's, weighted, added up."""
        return sum(w * margin(e, X) for w, e in zip(self.weights_, self.estimators_, strict=True))

    def predict_proba(self, X) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.margin(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def blend_config(members: Sequence[dict], weights: Sequence[float]) -> dict[str, Any]:
    """The estimator config of a blend, for Hydra's instantiate (members are configs too)."""
    return {
        "_target_": BLEND_TARGET,
        "_convert_": "all",
        "estimators": [dict(m) for m in members],
        "weights": [round(float(w), 4) for w in weights],
    }
