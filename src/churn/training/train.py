"""`churn train`: backtest out of time, fit and calibrate the final model, track it in MLflow.

`train(cfg)` is pure of Hydra: it takes a plain config and returns (metrics, objects).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn.columns import VALUE_COLUMN
from churn.dataset.build import load_model_table
from churn.dataset.labels import TARGETS
from churn.errors import ChurnError
from churn.store import catalog_path, features_folder, read_catalog
from churn.training.backtest import (
    BacktestResult,
    Fold,
    best_profit,
    cross_validated,
    data_fingerprint,
)
from churn.training.baseline import compare_with_baseline
from churn.training.calibration import calibration_metrics
from churn.training.crossval import chosen_model, fit_final_cv, run_cross_validation
from churn.training.evaluate import with_economics
from churn.training.out_of_time import fit_calibrated, rows_at, run_rolling
from churn.training.pipeline import model_inputs
from churn.training.search import run_search, with_params
from churn.training.tracking import track_training
from churn.training.value_backtest import value_for_training

log = logging.getLogger(__name__)


@dataclass
class TrainingData:
    frame: pd.DataFrame
    numeric: list[str]
    categorical: list[str]
    meta: dict
    hazard: pd.DataFrame | None = None

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical


def load_training_data(data_dir: Path, target: str) -> TrainingData:
    """Labelled snapshots with the declared features; clear errors for what cannot train."""
    features_dir = features_folder(data_dir)
    if not catalog_path(features_dir).exists():
        raise ChurnError(
            f"no features in {features_dir}: run `churn features` (make features) first"
        )
    if target not in TARGETS:
        raise ChurnError(f"target.name={target!r} has no labels: use one of {', '.join(TARGETS)}")
    meta = read_catalog(features_dir)
    if not meta["labelled_cutoffs"]:
        raise ChurnError(
            "no labelled cutoff: every label window runs past the data; move cutoffs.end earlier"
        )
    frame = control_arm(load_model_table(features_dir, meta["labelled_cutoffs"]), meta)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    if frame.empty:
        raise ChurnError("the spine is empty at every labelled cutoff: no customer was active")
    if frame[target].nunique() < 2:
        raise ChurnError(
            f"labels for {target!r} have one class only ({frame[target].iloc[0]:.0f})"
            "; widen the cutoffs or the label horizon (labels.horizon_days)"
        )
    declared = meta["features"]
    empty = [f["name"] for f in declared if frame[f["name"]].isna().all()]
    if empty:
        raise ChurnError(
            f"feature(s) {', '.join(empty)} are null in every snapshot: check the "
            "source table, or leave the family out with features.families"
        )
    numeric = [f["name"] for f in declared if f["kind"] == "numeric"]
    categorical = [f["name"] for f in declared if f["kind"] == "categorical"]
    frame["cutoff"] = pd.to_datetime(frame["cutoff"]).dt.date
    inputs = model_inputs(frame, declared)
    frame[list(inputs.columns)] = inputs
    return TrainingData(frame, numeric, categorical, meta, read_hazard(data_dir))


def control_arm(frame: pd.DataFrame, meta: Mapping) -> pd.DataFrame:
    """A table holding a randomized test trains on its control group: the churn model is the
    risk without contact (a contact changed the treated arms' outcomes; `churn uplift` learns
    that change)."""
    test = meta.get("treatment")
    if not test:
        return frame
    control = frame[test["arm_column"]] == test["control"]
    log.info("training on the test's control group %r: %d rows", test["control"], control.sum())
    return frame[control].reset_index(drop=True)


def read_hazard(data_dir: Path) -> pd.DataFrame | None:
    """The simulator's true hazard per customer and month start, when the data is simulated."""
    path = data_dir / "raw" / "ground_truth_hazard.parquet"
    if not path.exists():
        return None
    hazard = pd.read_parquet(path)
    hazard["cutoff"] = pd.to_datetime(hazard["month_start"]).dt.date
    return hazard.drop(columns="month_start")


def run_backtest(data: TrainingData, cfg: Mapping) -> tuple[BacktestResult, list[Fold]]:
    split = cfg["split"]
    if cross_validated(data, split):
        if split["kind"] != "cv":
            log.info(
                "one cutoff (a snapshot table): evaluating by cross-validation, not out of time"
            )
        return run_cross_validation(data, cfg, VALUE_COLUMN)
    return run_rolling(data, cfg)


def fit_final(data: TrainingData, cfg: Mapping, backtest: BacktestResult):
    """The model to ship: every labelled cutoff but the latest, calibrated on the latest (a
    snapshot table: every row, with cross-validated calibration)."""
    if cross_validated(data, cfg["split"]):
        return fit_final_cv(data, cfg, backtest)
    cutoffs = sorted(data.frame["cutoff"].unique())
    method = backtest.calibration.get("method") or cfg["split"]["calibration"]
    split = {**cfg["split"], "calibration": method}
    return fit_calibrated(
        data, cfg["target"]["name"], cutoffs[:-1], cutoffs[-1], {**cfg, "split": split}
    )


def check_mean_probability(model, data: TrainingData, cfg: Mapping) -> None:
    """The shipped model's mean probability must match the observed rate on the rows it was
    calibrated for; a model that calls everyone high-risk stops here, before any report."""
    target, split = cfg["target"]["name"], cfg["split"]
    if cross_validated(data, split):
        rows = data.frame
    else:
        rows = rows_at(data, [sorted(data.frame["cutoff"].unique())[-1]])
    p = model.predict_proba(rows[data.features])[:, 1]
    mean_p, rate = float(np.mean(p)), float(rows[target].mean())
    tolerance = max(split["mean_probability_tolerance"] * rate, 0.01)
    if not np.isfinite(mean_p) or abs(mean_p - rate) > tolerance:
        raise ChurnError(
            f"the final model's mean predicted probability is {mean_p:.4f} on the {len(rows):,} "
            f"rows it was calibrated for, where {rate:.4f} is observed (tolerance {tolerance:.4f}, "
            "split.mean_probability_tolerance): its probabilities cannot be read as chances, so "
            "nothing is reported. Look for a leaking column (churn validate) or raise the "
            "tolerance."
        )
    log.info("final model: mean probability %.4f against an observed rate of %.4f", mean_p, rate)


def train(cfg: Mapping) -> tuple[dict[str, float], dict[str, Any]]:
    """Backtest, final fit, MLflow run and registry; returns the metrics and the objects."""
    target = cfg["target"]["name"]
    data = load_training_data(Path(cfg["paths"]["data_dir"]), target)
    cfg = with_economics(cfg, data.meta.get("inferred"))
    log.info(
        "training %s on %s snapshots (%d cutoffs, %d features)",
        target,
        f"{len(data.frame):,}",
        data.frame["cutoff"].nunique(),
        len(data.features),
    )
    trials: list[dict] = []
    if cfg["hparams_search"]["n_trials"] > 0:
        best, trials, (backtest, folds) = run_search(data, cfg, run_backtest)
        cfg = with_params(cfg, best)
    else:
        backtest, folds = run_backtest(data, cfg)
    if backtest.params:  # the search's choice is what gets fitted, logged and registered
        cfg = {**cfg, "model": chosen_model(cfg["model"], backtest.params)}
        trials = [
            {
                "number": t["number"],
                "params": {"kind": t["kind"], **t["params"]},
                "metrics": {"inner_roc_auc": t["inner_roc_auc"], "seconds": t["seconds"]},
            }
            for t in backtest.trials
        ]
    if backtest.calibration.get("method"):  # `auto` resolved: the value backtest, the final
        key = "cv_calibration" if cross_validated(data, cfg["split"]) else "calibration"
        cfg = {**cfg, "split": {**cfg["split"], key: backtest.calibration["method"]}}
    model = fit_final(data, cfg, backtest)
    check_mean_probability(model, data, cfg)
    metrics = {
        **backtest.summary,
        **best_profit(backtest),
        **calibration_metrics(backtest.calibration),
    }
    if "copies_in_inputs" in data.meta:
        metrics["data_copies_in_inputs"] = float(data.meta["copies_in_inputs"])
    value_details = None
    if target == "churn":  # CLV is the churn model's hazard times margin
        value_metrics, value_details = value_for_training(model, data, cfg)
        metrics.update(value_metrics)
    comparison = None
    if cfg["data"].get("baseline"):
        baseline_metrics, comparison = compare_with_baseline(
            data, cfg, Path(cfg["paths"]["data_dir"]) / "features"
        )
        metrics.update(baseline_metrics)
    if "oracle_roc_auc_mean" in metrics:
        metrics["oracle_roc_auc"] = metrics["oracle_roc_auc_mean"]
        metrics["oracle_auc_fraction"] = metrics["oracle_auc_fraction_mean"]
    objects = {
        "model": model,
        "data": data,
        "backtest": backtest,
        "folds": folds,
        "fingerprint": data_fingerprint(data, target),
        "trials": trials,
        "config": cfg,
        "baseline": comparison,
        "value": value_details,
        "backtest_fn": run_backtest,  # the champion rule refits the champion in these folds
    }
    objects.update(track_training(cfg, metrics, objects))
    return metrics, objects


def run_train(cfg) -> dict[str, float]:
    """Hydra entry: resolve, train, log the headline."""
    from omegaconf import OmegaConf

    plain = OmegaConf.to_container(cfg, resolve=True)
    metrics, objects = train(plain)
    log.info(
        "backtest roc_auc %.4f ± %.4f, pr_auc %.4f, lift@10 %.2f, best contact fraction %.2f",
        metrics["roc_auc_mean"],
        metrics["roc_auc_std"],
        metrics["pr_auc_mean"],
        metrics["lift_10_mean"],
        metrics["best_profit_fraction"],
    )
    if "oracle_auc_fraction" in metrics:
        log.info(
            "oracle roc_auc %.4f: the model reaches %.1f%% of it",
            metrics["oracle_roc_auc"],
            100 * metrics["oracle_auc_fraction"],
        )
    log.info("%s", objects.get("registry_message", ""))
    return metrics
