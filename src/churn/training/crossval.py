"""Cross-validation for a table without a time axis (a customer table with a churn flag).

Stratified k-fold repeated (`split.cv_folds` x `split.cv_repeats`). When the model declares
`tune`, a small search runs first inside the first repeat's training folds
(`churn.training.tuning`). Each fold's model is fitted once; its test scores are calibrated by a
map learned on the other folds' out-of-fold scores of the same repeat, and the shipped model is
calibrated on the first repeat's out-of-fold scores: one fit per fold, never an inner
cross-validation per fold.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import numpy as np

from churn.dataset.build import progress_bar
from churn.errors import ChurnError
from churn.training.backtest import (
    BacktestResult,
    calibrate_out_of_fold,
    cv_folds,
    fit_score_calibrator,
    score_response,
)
from churn.training.evaluate import RetentionCosts, score_fold
from churn.training.pipeline import build_pipeline
from churn.training.tuning import draw_trials, tune_in_folds, with_estimator

log = logging.getLogger(__name__)


def tuning_applies(cfg: Mapping) -> bool:
    """The model declares a search and no explicit hyperparameter search replaces it."""
    return bool(cfg["model"].get("tune")) and cfg["hparams_search"]["n_trials"] == 0


MIN_PER_CLASS_PER_FOLD = 10


def check_enough_to_cross_validate(y: np.ndarray, n_folds: int, target: str) -> None:
    """Fewer than about ten customers of a class in each test fold gives a ROC-AUC that means
    nothing (a 10-row table 'scored' 0.5000 ± 0.0000): stop, with the numbers."""
    counts = {label: int((y == label).sum()) for label in (0, 1)}
    fewest = min(counts.values())
    if fewest < MIN_PER_CLASS_PER_FOLD * n_folds:
        raise ChurnError(
            f"too few customers to cross-validate {target}: {len(y):,} rows, {counts[1]:,} "
            f"positive and {counts[0]:,} negative; {n_folds} folds need at least "
            f"{MIN_PER_CLASS_PER_FOLD * n_folds} of each ({MIN_PER_CLASS_PER_FOLD} per fold). "
            "Add customers, or lower split.cv_folds"
        )


def run_cross_validation(data, cfg: Mapping, value_column: str) -> tuple[BacktestResult, list]:
    """Search (when declared), one fit per fold, calibrated out-of-fold scores and metrics."""
    target, split, seed = cfg["target"]["name"], cfg["split"], cfg["seed"]
    y = data.frame[target].astype(int).to_numpy()
    check_enough_to_cross_validate(y, split["cv_folds"], target)
    folds = cv_folds(y, split["cv_folds"], split["cv_repeats"], seed)
    first = [f for f in folds if f.repeat == 1]
    model_cfg, result = cfg["model"], BacktestResult()
    searching = tuning_applies(cfg)
    steps = len(folds) + (
        len(draw_trials(model_cfg["tune"], seed)) * len(first) if searching else 0
    )
    raw = np.full((split["cv_repeats"], len(y)), np.nan)
    with progress_bar() as bar:
        task = bar.add_task("cross-validation", total=steps)
        if searching:
            tuned = tune_in_folds(data, target, first, model_cfg, seed, lambda: bar.advance(task))
            result.params, result.trials = tuned.params, tuned.trials
            model_cfg = with_estimator(model_cfg, tuned.params)
        for fold in folds:
            started = time.perf_counter()
            fit = data.frame.iloc[fold.fit]
            pipe = build_pipeline(model_cfg, data.numeric, data.categorical)
            pipe.fit(fit[data.features], y[fold.fit])
            test = data.frame.iloc[fold.test][data.features]
            raw[fold.repeat - 1, fold.test] = score_response(pipe, test)
            log.info(
                "fold %d/%d (repeat %d): fitted on %s rows in %.1f s",
                fold.number,
                len(folds),
                fold.repeat,
                f"{len(fold.fit):,}",
                time.perf_counter() - started,
            )
            bar.advance(task)
    score_calibrated_folds(data, folds, raw, y, cfg, value_column, result)
    result.raw_oof = raw[0]
    summary = result.summary
    log.info(
        "%d-fold cross-validation x %d: roc_auc %.4f ± %.4f",
        split["cv_folds"],
        split["cv_repeats"],
        summary["roc_auc_mean"],
        summary["roc_auc_std"],
    )
    return result, folds


def score_calibrated_folds(data, folds, raw, y, cfg, value_column, result: BacktestResult) -> None:
    """Each fold's scores calibrated on the rest of its repeat's out-of-fold scores, then graded."""
    costs = RetentionCosts(**cfg["costs"])
    method = cfg["split"]["cv_calibration"]
    for fold in folds:
        scores = raw[fold.repeat - 1]
        others = np.ones(len(y), dtype=bool)
        others[fold.test] = False
        calibrator = fit_score_calibrator(scores[others], y[others], method)
        p = np.clip(calibrator.predict(scores[fold.test]), 0.0, 1.0)
        test = data.frame.iloc[fold.test]
        result.folds.append(score_fold(y[fold.test], p, test[value_column].to_numpy(), costs))
        result.predictions.append(
            test[["customer_id", "cutoff", value_column]].assign(
                y=y[fold.test], p=p, fold=fold.number, label=f"fold {fold.number}"
            )
        )


def fit_final_cv(data, cfg: Mapping, backtest: BacktestResult):
    """Every row, with the searched parameters, calibrated on the first repeat's out-of-fold
    scores (a single model and calibrator, so explanations and scores use exactly that model)."""
    target = cfg["target"]["name"]
    model_cfg = with_estimator(cfg["model"], backtest.params or {})
    pipe = build_pipeline(model_cfg, data.numeric, data.categorical)
    y = data.frame[target].astype(int).to_numpy()
    pipe.fit(data.frame[data.features], y)
    return calibrate_out_of_fold(pipe, backtest.raw_oof, y, cfg["split"]["cv_calibration"])
