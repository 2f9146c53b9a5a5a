"""A response model for a test with several actions: one per action against the control group.

`effects` is each action's predicted drop in churn probability, `decide` the action with the
largest one (None where no action is predicted to help), and `predict` that largest effect, the
figure the call list ranks by. It is an sklearn estimator, stored with skops like the others.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator


class ActionUplift(BaseEstimator):
    """`models` maps each action to an unfitted `RetentionUplift`; each is fitted on the
    customers who got that action or nothing (`control`)."""

    def __init__(self, models: Mapping | None = None, control: str = "control"):
        self.models = models
        self.control = control

    def fit(self, X: pd.DataFrame, y, arm):
        arm = np.asarray(arm, dtype=object)
        y = np.asarray(y, dtype=float)
        self.actions_ = list(self.models)
        self.models_ = {}
        for action in self.actions_:
            rows = (arm == action) | (arm == self.control)
            model = copy.deepcopy(self.models[action])
            self.models_[action] = model.fit(X[rows], y[rows], (arm[rows] == action).astype(int))
        return self

    def effects(self, X: pd.DataFrame) -> np.ndarray:
        """customers x actions: each action's predicted drop in churn probability."""
        return np.column_stack([self.models_[a].predict(X) for a in self.actions_])

    def decide(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Each customer's largest predicted effect and the action that brings it (None where
        no action is predicted to help): what the call list ranks by and offers."""
        effects = self.effects(X)
        return effects.max(axis=1), best_of(effects, self.actions_)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.effects(X).max(axis=1)


def best_of(effects: np.ndarray, actions: list[str]) -> np.ndarray:
    """The action with the largest effect per row (the first of equals); None where it is <= 0."""
    best = np.asarray(actions, dtype=object)[np.argmax(effects, axis=1)]
    return np.where(effects.max(axis=1) > 0, best, None)
