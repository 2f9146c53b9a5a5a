"""A small seeded search for the boosted trees, run inside the training folds.

Real customer tables differ in how deep an interaction goes, so one fixed depth fits some and
not others. `model.tune` declares a few trials (depth spread over its range, learning rate drawn
log-uniformly with the seed); each is fitted on part of a fold's training rows with early stopping
on the rest, so the number of trees is chosen too and the fold's test rows are never seen. The
trial with the best mean inner ROC-AUC wins; its trees are the median early-stopped count.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from churn.training.pipeline import build_pipeline

log = logging.getLogger(__name__)


@dataclass
class TuningResult:
    """The chosen estimator parameters and every trial's inner scores."""

    params: dict[str, Any]
    trials: list[dict[str, Any]] = field(default_factory=list)


def draw_trials(tune: Mapping, seed: int) -> list[dict[str, Any]]:
    """Depths spread evenly over their range (shallow to deep), learning rates seeded."""
    n = int(tune["trials"])
    low, high = tune["max_depth"]
    depths = np.unique(np.rint(np.linspace(low, high, n)).astype(int))
    rng = np.random.default_rng(seed)
    lr_low, lr_high = np.log(tune["learning_rate"][0]), np.log(tune["learning_rate"][1])
    rates = np.exp(rng.uniform(lr_low, lr_high, size=len(depths)))
    return [
        {"max_depth": int(d), "learning_rate": round(float(r), 4)}
        for d, r in zip(depths, rates, strict=True)
    ]


def with_estimator(model_cfg: Mapping, params: Mapping[str, Any]) -> dict:
    """A model config with the estimator's parameters replaced; the input is left untouched."""
    out = copy.deepcopy(dict(model_cfg))
    out["estimator"] = {**out["estimator"], **params}
    return out


def early_stopped(
    model_cfg: Mapping,
    numeric: Sequence[str],
    categorical: Sequence[str],
    X: pd.DataFrame,
    y: np.ndarray,
    tune: Mapping,
    seed: int,
) -> tuple[float, int]:
    """Inner ROC-AUC and the early-stopped number of trees, from one fold's training rows."""
    fit_X, valid_X, fit_y, valid_y = train_test_split(
        X, y, test_size=tune["validation_fraction"], stratify=y, random_state=seed
    )
    stopping = {
        "n_estimators": int(tune["max_estimators"]),
        "early_stopping_rounds": int(tune["early_stopping_rounds"]),
        "eval_metric": "auc",
    }
    pipe = build_pipeline(with_estimator(model_cfg, stopping), numeric, categorical)
    preprocess, booster = pipe[:-1], pipe[-1]
    encoded = preprocess.fit_transform(fit_X, fit_y)
    valid = preprocess.transform(valid_X)
    booster.fit(encoded, fit_y, eval_set=[(valid, valid_y)], verbose=False)
    p = booster.predict_proba(valid, iteration_range=(0, booster.best_iteration + 1))[:, 1]
    return float(roc_auc_score(valid_y, p)), int(booster.best_iteration) + 1


def tune_in_folds(
    data, target: str, folds, model_cfg: Mapping, seed: int, advance=None
) -> TuningResult:
    """Every trial on every given fold's training rows; the best mean inner ROC-AUC wins."""
    tune = model_cfg["tune"]
    trials = draw_trials(tune, seed)
    y = data.frame[target].astype(int).to_numpy()
    results = []
    for number, params in enumerate(trials, 1):
        started, scores, trees = time.perf_counter(), [], []
        trial_cfg = with_estimator(model_cfg, params)
        for fold in folds:
            rows = data.frame.iloc[fold.fit]
            auc, n_trees = early_stopped(
                trial_cfg,
                data.numeric,
                data.categorical,
                rows[data.features],
                y[fold.fit],
                tune,
                seed,
            )
            scores.append(auc)
            trees.append(n_trees)
            if advance is not None:
                advance()
        chosen = {**params, "n_estimators": int(np.median(trees))}
        results.append(
            {"number": number, "params": chosen, "inner_roc_auc": float(np.mean(scores))}
        )
        log.info(
            "search trial %d/%d: depth %d, learning rate %.3f, %d trees -> inner roc_auc %.4f "
            "(%.0f s)",
            number,
            len(trials),
            params["max_depth"],
            params["learning_rate"],
            chosen["n_estimators"],
            results[-1]["inner_roc_auc"],
            time.perf_counter() - started,
        )
    best = max(results, key=lambda r: r["inner_roc_auc"])
    log.info(
        "search picked depth %d, learning rate %.3f, %d trees (inner roc_auc %.4f)",
        best["params"]["max_depth"],
        best["params"]["learning_rate"],
        best["params"]["n_estimators"],
        best["inner_roc_auc"],
    )
    return TuningResult(best["params"], results)
