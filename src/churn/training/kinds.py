"""The kinds of gradient-boosted trees churn fits: XGBoost, LightGBM and CatBoost.

All three take the same encoded matrix (`preprocess: tree`: numbers as they are, missing kept,
one coded column per category), stop early on a validation part while recording its ROC-AUC after
every tree, give their log-odds at any number of trees, and have exact TreeSHAP
(`churn.explain.members`). What differs between libraries (how a fit is told about its
validation rows, how many trees to use when predicting) lives here and nowhere else.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
from hydra.utils import instantiate

KINDS = ("xgboost", "lightgbm", "catboost")
TREES = {"xgboost": "n_estimators", "lightgbm": "n_estimators", "catboost": "iterations"}


def kind_of(estimator) -> str:
    """The library a fitted or unfitted booster comes from."""
    kind = type(estimator).__module__.split(".")[0]
    if kind not in KINDS:
        raise TypeError(f"{type(estimator).__name__} is not a boosted-tree kind churn knows")
    return kind


def kind_of_target(target: str) -> str:
    """The kind named by an estimator config's `_target_`."""
    kind = target.split(".")[0]
    if kind not in KINDS:
        raise ValueError(
            f"model.search.kinds: {target} is not one of the boosted trees churn explains "
            f"exactly ({', '.join(KINDS)})"
        )
    return kind


def with_trees(estimator_cfg: Mapping, n_trees: int) -> dict[str, Any]:
    """An estimator config with its number of trees set, in the library's own word."""
    kind = kind_of_target(estimator_cfg["_target_"])
    return {**estimator_cfg, TREES[kind]: int(n_trees)}


def fit_with_curve(
    estimator_cfg: Mapping,
    X: np.ndarray,
    y: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    max_trees: int,
    patience: int,
):
    """Fit with early stopping on the validation rows; (estimator, validation ROC-AUC after each
    tree). The curve, not the library's own best iteration, is what the search averages over
    inner folds to choose the number of trees."""
    kind = kind_of_target(estimator_cfg["_target_"])
    estimator = instantiate(with_trees(estimator_cfg, max_trees))
    if kind == "xgboost":
        estimator.set_params(early_stopping_rounds=patience, eval_metric="auc")
        estimator.fit(X, y, eval_set=[(X_valid, y_valid)], verbose=False)
        curve = estimator.evals_result()["validation_0"]["auc"]
    elif kind == "lightgbm":
        import lightgbm

        # 4.7 names the validation rows eval_X / eval_y and deprecates eval_set
        names = inspect.signature(estimator.fit).parameters
        rows = (
            {"eval_X": (X_valid,), "eval_y": (y_valid,)}
            if "eval_X" in names
            else {"eval_set": [(X_valid, y_valid)]}
        )
        estimator.fit(
            X,
            y,
            **rows,
            eval_metric="auc",
            callbacks=[lightgbm.early_stopping(patience, verbose=False)],
        )
        curve = estimator.evals_result_["valid_0"]["auc"]
    else:
        estimator.set_params(eval_metric="AUC", od_type="Iter", od_wait=patience)
        estimator.fit(X, y, eval_set=(X_valid, y_valid), use_best_model=False)
        curve = estimator.get_evals_result()["validation"]["AUC"]
    return estimator, np.asarray(curve, dtype=float)


def fitted_trees(estimator) -> int:
    """How many trees a fitted booster holds."""
    kind = kind_of(estimator)
    if kind == "xgboost":
        return int(estimator.get_booster().num_boosted_rounds())
    if kind == "lightgbm":
        return int(estimator.booster_.current_iteration())
    return int(estimator.tree_count_)


def margin(estimator, X: np.ndarray, n_trees: int | None = None) -> np.ndarray:
    """Log-odds of churn from the first `n_trees` trees (all of them when None; an inner model
    that stopped earlier than the chosen count uses all it has)."""
    kind = kind_of(estimator)
    if n_trees:
        n_trees = min(int(n_trees), fitted_trees(estimator))
    if kind == "xgboost":
        span = (0, int(n_trees)) if n_trees else None
        return np.asarray(estimator.predict(X, output_margin=True, iteration_range=span), float)
    if kind == "lightgbm":
        return np.asarray(estimator.predict(X, raw_score=True, num_iteration=n_trees), float)
    end = int(n_trees) if n_trees else 0
    return np.asarray(
        estimator.predict(X, prediction_type="RawFormulaVal", ntree_end=end), dtype=float
    )


def mean_curve(curves: list[np.ndarray]) -> np.ndarray:
    """Inner folds' curves averaged tree by tree; a fold that stopped early holds its last value
    (its validation ROC-AUC was no longer rising)."""
    length = max(len(c) for c in curves)
    padded = [np.concatenate([c, np.full(length - len(c), c[-1])]) for c in curves]
    return np.mean(padded, axis=0)
