"""The out-of-time backtest of a panel of cutoffs: rolling-origin folds, fitted, calibrated on a
later cutoff and graded on the test cutoff (with the simulator's oracle where it is known)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from churn.columns import VALUE_COLUMN
from churn.dataset.build import progress_bar
from churn.training.backtest import BacktestResult, Fold, calibrate, oracle_auc, rolling_folds
from churn.training.calibration import compare_methods, resolve_method
from churn.training.crossval import chosen_model, search_applies
from churn.training.evaluate import RetentionCosts, score_fold
from churn.training.pipeline import build_pipeline
from churn.training.tree_search import search_trees

log = logging.getLogger(__name__)


def rows_at(data, cutoffs) -> pd.DataFrame:
    return data.frame[data.frame["cutoff"].isin(set(cutoffs))]


def fit_calibrated(data, target: str, fit_cutoffs, cal_cutoff, cfg: Mapping, methods=None):
    """Fit on earlier cutoffs, calibrate on a later one; with `methods`, one calibrated model
    per method around the same fit."""
    fit_rows, cal_rows = rows_at(data, fit_cutoffs), rows_at(data, [cal_cutoff])
    pipe = build_pipeline(cfg["model"], data.numeric, data.categorical)
    pipe.fit(fit_rows[data.features], fit_rows[target].astype(int))
    y_cal = cal_rows[target].astype(int).to_numpy()
    if methods is None:
        return calibrate(pipe, cal_rows[data.features], y_cal, cfg["split"]["calibration"])
    return {m: calibrate(pipe, cal_rows[data.features], y_cal, m) for m in methods}


def evaluate_fold(model, data, target: str, fold: Fold, costs) -> tuple[dict, pd.DataFrame]:
    test = rows_at(data, [fold.test])
    p = model.predict_proba(test[data.features])[:, 1]
    y = test[target].astype(int).to_numpy()
    metrics = score_fold(y, p, test[VALUE_COLUMN].to_numpy(), costs)
    preds = test[["customer_id", "cutoff", VALUE_COLUMN]].assign(
        y=y, p=p, label=f"test {fold.test}"
    )
    if data.hazard is not None and target == "churn":
        truth = preds.merge(data.hazard, on=["customer_id", "cutoff"], how="left")
        if truth["churn_hazard"].notna().all():
            metrics["oracle_roc_auc"] = oracle_auc(y, truth["churn_hazard"].to_numpy())
            metrics["oracle_auc_fraction"] = metrics["roc_auc"] / metrics["oracle_roc_auc"]
    return metrics, preds


def panel_search_applies(cfg: Mapping) -> bool:
    """The model's search, on a panel too when `model.search.on_panel` says so."""
    return search_applies(cfg) and bool(cfg["model"]["search"].get("on_panel"))


def search_panel(data, cfg: Mapping, first: Fold, result: BacktestResult, plan) -> dict:
    """The search on the first fold's training cutoffs only (before every fold's calibration
    and test cutoffs), its inner folds grouped by customer so that one customer's snapshots at
    several cutoffs never sit on both sides; returns the config with the chosen estimator."""
    target, search = cfg["target"]["name"], cfg["model"]["search"]
    rows = rows_at(data, first.fit)
    groups = pd.factorize(rows["customer_id"])[0]
    with progress_bar() as bar:
        task = bar.add_task("model search", total=int(search["max_trials"]))
        found = search_trees(
            rows[data.features],
            rows[target].astype(int).to_numpy(),
            groups,
            data.numeric,
            data.categorical,
            search,
            cfg["seed"],
            lambda: bar.advance(task),
            plan,
        )
        bar.update(task, completed=int(search["max_trials"]))
    result.params, result.trials = found.estimator, found.trials
    return {**cfg, "model": chosen_model(cfg["model"], found.estimator)}


def run_rolling(data, cfg: Mapping) -> tuple[BacktestResult, list[Fold]]:
    """Rolling-origin folds: each test cutoff's model fitted on what closed before it and
    calibrated on the latest of those (by the configured method, or under `auto` the one that
    measured better on the test cutoffs)."""
    target = cfg["target"]["name"]
    split = cfg["split"]
    cutoffs = sorted(data.frame["cutoff"].unique())
    folds = rolling_folds(
        cutoffs, split["n_folds"], cfg["labels"]["horizon_days"], split["min_fit_cutoffs"]
    )
    result = BacktestResult()
    if panel_search_applies(cfg):
        plan = (len(rows_at(data, folds[-1].fit)), len(folds) + 1)
        cfg = search_panel(data, cfg, folds[0], result, plan)
    costs = RetentionCosts(**cfg["costs"])
    setting = split["calibration"]
    methods = ("sigmoid", "isotonic") if setting == "auto" else (setting,)
    graded = []
    for fold in folds:
        models = fit_calibrated(data, target, fold.fit, fold.calibrate, cfg, methods)
        graded.append({m: evaluate_fold(models[m], data, target, fold, costs) for m in methods})
    method, measured = resolve_method(
        setting,
        lambda: compare_methods(
            ((g["sigmoid"][1]["y"].to_numpy(), {m: g[m][1]["p"] for m in g}) for g in graded),
            "out-of-time folds",
        ),
    )
    result.calibration = {"method": method, "measured": measured}
    for i, (fold, by_method) in enumerate(zip(folds, graded, strict=True), 1):
        metrics, preds = by_method[method]
        log.info(
            "fold %d/%d test %s: roc_auc %.4f, pr_auc %.4f, lift@10 %.2f%s",
            i,
            len(folds),
            fold.test,
            metrics["roc_auc"],
            metrics["pr_auc"],
            metrics["lift_10"],
            f", oracle {metrics['oracle_roc_auc']:.4f}" if "oracle_roc_auc" in metrics else "",
        )
        result.folds.append(metrics)
        result.predictions.append(preds.assign(fold=i))
    return result, folds
