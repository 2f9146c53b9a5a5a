"""Exact TreeSHAP for every kind of booster churn fits, and for their blend.

XGBoost: its own TreeSHAP, tabulated for shallow trees (`shap_table`). LightGBM: `pred_contrib`.
CatBoost: its `ShapValues`. Each returns SHAP per encoded column in log-odds and a base value that
add up to the booster's margin. A blend (`LogOddsBlend`) weights its members' SHAP and bases by
the blend's own weights, so its reasons add up to its margin too.
"""

from __future__ import annotations

import numpy as np

from churn.explain.shap_table import shap_by_column
from churn.training.blend import LogOddsBlend
from churn.training.kinds import KINDS, kind_of


def is_tree_model(estimator) -> bool:
    """A booster churn explains exactly, or a blend of them."""
    if isinstance(estimator, LogOddsBlend):
        return all(is_tree_model(e) for e in estimator.estimators_)
    return type(estimator).__module__.split(".")[0] in KINDS


def booster_shap(estimator, encoded: np.ndarray) -> tuple[np.ndarray, float]:
    """(SHAP per encoded column, base margin) in log-odds, exact for the fitted trees."""
    if isinstance(estimator, LogOddsBlend):
        total, base = np.zeros(encoded.shape, dtype=np.float64), 0.0
        for weight, member in zip(estimator.weights_, estimator.estimators_, strict=True):
            shap, member_base = booster_shap(member, encoded)
            total += weight * shap
            base += weight * member_base
        return total, float(base)
    kind = kind_of(estimator)
    if kind == "xgboost":
        # XGBoost compares in float32, as its own prediction does
        return shap_by_column(estimator.get_booster(), np.asarray(encoded, dtype=np.float32))
    if kind == "lightgbm":
        values = estimator.booster_.predict(encoded, pred_contrib=True)
    else:
        from catboost import Pool

        values = estimator.get_feature_importance(Pool(encoded), type="ShapValues")
    values = np.asarray(values, dtype=np.float64)
    return values[:, :-1], float(values[0, -1]) if len(values) else 0.0
