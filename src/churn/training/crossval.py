"""Cross-validation for a table without a time axis (a customer table with a churn flag).

Stratified k-fold repeated (`split.cv_folds` x `split.cv_repeats`; one repeat past
`split.cv_one_repeat_rows`). Copies of a customer (rows identical in every column the model sees)
stay in one fold (`split.group_copies`). When the model declares `search`, the search over kinds
of boosted trees runs first, inside the first fold's training rows (`churn.training.tree_search`).
Each fold's model is fitted once; its test scores are calibrated by a map learned on the other
folds' out-of-fold scores of the same repeat, and the shipped model is calibrated on the first
repeat's out-of-fold scores: one fit per fold, never an inner cross-validation per fold.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping

import numpy as np

from churn.dataset.build import progress_bar
from churn.errors import ChurnError
from churn.training.backtest import (
    BacktestResult,
    calibrate_out_of_fold,
    copy_groups,
    cv_folds,
    fit_score_calibrator,
    score_response,
)
from churn.training.calibration import compare_methods, resolve_method
from churn.training.evaluate import RetentionCosts, score_fold
from churn.training.pipeline import build_pipeline
from churn.training.tree_search import search_trees

log = logging.getLogger(__name__)


def search_applies(cfg: Mapping) -> bool:
    """The model declares a search (its kinds; `+debug=fast` may add only limits to a model
    without one) and no explicit hyperparameter search replaces it."""
    search = cfg["model"].get("search") or {}
    return bool(search.get("kinds")) and cfg["hparams_search"]["n_trials"] == 0


def chosen_model(model_cfg: Mapping, estimator: Mapping) -> dict:
    """The model config with the search's choice as its estimator and no search left: what is
    fitted, logged and registered, and what a champion refit reproduces."""
    out = copy.deepcopy(dict(model_cfg))
    out["estimator"] = copy.deepcopy(dict(estimator))
    out.pop("search", None)
    return out


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


def plan_folds(data, y: np.ndarray, split: Mapping, seed: int) -> list:
    """Folds grouped by copies, with one repeat on a big table; both said in the log."""
    repeats = int(split["cv_repeats"])
    if repeats > 1 and len(y) > int(split["cv_one_repeat_rows"]):
        log.info(
            "%s rows: one repeat of the %d folds, not %d (split.cv_one_repeat_rows)",
            f"{len(y):,}",
            split["cv_folds"],
            repeats,
        )
        repeats = 1
    groups = None
    if split["group_copies"]:
        groups = copy_groups(data.frame, data.features)
        copies = len(y) - len(np.unique(groups))
        if copies:
            log.warning(
                "%s rows repeat another row's inputs exactly (copies of a customer, or customers "
                "the model cannot tell apart): each set is kept in one fold "
                "(split.group_copies=false to split them)",
                f"{copies:,}",
            )
        data.meta["copies_in_inputs"] = copies
    return cv_folds(y, split["cv_folds"], repeats, seed, groups), groups


def run_cross_validation(data, cfg: Mapping, value_column: str) -> tuple[BacktestResult, list]:
    """Search (when declared), one fit per fold, calibrated out-of-fold scores and metrics."""
    target, split, seed = cfg["target"]["name"], cfg["split"], cfg["seed"]
    y = data.frame[target].astype(int).to_numpy()
    check_enough_to_cross_validate(y, split["cv_folds"], target)
    folds, groups = plan_folds(data, y, split, seed)
    repeats = max(f.repeat for f in folds)
    model_cfg, result = cfg["model"], BacktestResult()
    raw = np.full((repeats, len(y)), np.nan)
    with progress_bar() as bar:
        if search_applies(cfg):
            search = model_cfg["search"]
            task = bar.add_task("model search", total=int(search["max_trials"]))
            fit = folds[0].fit
            found = search_trees(
                data.frame.iloc[fit][data.features],
                y[fit],
                None if groups is None else groups[fit],
                data.numeric,
                data.categorical,
                search,
                seed,
                lambda: bar.advance(task),
                plan=(len(fit), len(folds) + 1),
            )
            bar.update(task, completed=int(search["max_trials"]))
            result.params, result.trials = found.estimator, found.trials
            model_cfg = chosen_model(model_cfg, found.estimator)
        task = bar.add_task("cross-validation", total=len(folds))
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
        repeats,
        summary["roc_auc_mean"],
        summary["roc_auc_std"],
    )
    return result, folds


def out_of_fold(raw, y, fold, method: str) -> np.ndarray:
    """A fold's scores mapped by a calibrator fitted on the rest of its repeat."""
    scores = raw[fold.repeat - 1]
    others = np.ones(len(y), dtype=bool)
    others[fold.test] = False
    calibrator = fit_score_calibrator(scores[others], y[others], method)
    return np.clip(calibrator.predict(scores[fold.test]), 0.0, 1.0)


def score_calibrated_folds(data, folds, raw, y, cfg, value_column, result: BacktestResult) -> None:
    """Each fold's scores calibrated on the rest of its repeat's out-of-fold scores, then graded;
    under `auto` the calibration is the one that measured better out of fold."""
    costs = RetentionCosts(**cfg["costs"])
    method, measured = resolve_method(
        cfg["split"]["cv_calibration"],
        lambda: compare_methods(
            (
                (y[f.test], {m: out_of_fold(raw, y, f, m) for m in ("sigmoid", "isotonic")})
                for f in folds
            ),
            "cross-validation",
        ),
    )
    result.calibration = {"method": method, "measured": measured}
    for fold in folds:
        p = out_of_fold(raw, y, fold, method)
        test = data.frame.iloc[fold.test]
        result.folds.append(score_fold(y[fold.test], p, test[value_column].to_numpy(), costs))
        result.predictions.append(
            test[["customer_id", "cutoff", value_column]].assign(
                y=y[fold.test], p=p, fold=fold.number, label=f"fold {fold.number}"
            )
        )


def fit_final_cv(data, cfg: Mapping, backtest: BacktestResult):
    """Every row, with the searched estimator, calibrated on the first repeat's out-of-fold
    scores (a single model and calibrator, so explanations and scores use exactly that model)."""
    target = cfg["target"]["name"]
    model_cfg = chosen_model(cfg["model"], backtest.params) if backtest.params else cfg["model"]
    pipe = build_pipeline(model_cfg, data.numeric, data.categorical)
    y = data.frame[target].astype(int).to_numpy()
    pipe.fit(data.frame[data.features], y)
    method = backtest.calibration.get("method") or cfg["split"]["cv_calibration"]
    return calibrate_out_of_fold(pipe, backtest.raw_oof, y, method)
