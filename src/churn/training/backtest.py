"""Out-of-time evaluation: rolling-origin folds over cutoffs, never a random split of snapshots.

For a test cutoff T the model is fitted on cutoffs whose label windows closed before T, except the
latest such cutoff, on which its probabilities are calibrated: calibration always uses a later
time fold than the fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score

from churn.errors import ChurnError
from churn.training.evaluate import summarize_folds


@dataclass
class BacktestResult:
    """Per-fold metrics and predictions; for cross-validation also the chosen estimator
    parameters and every row's out-of-fold score of the first repeat (for the final calibration)."""

    folds: list[dict[str, float]] = field(default_factory=list)
    predictions: list[pd.DataFrame] = field(default_factory=list)
    params: dict | None = None
    trials: list[dict] = field(default_factory=list)
    raw_oof: np.ndarray | None = None
    calibration: dict = field(default_factory=dict)  # the method chosen and what each scored

    @property
    def summary(self) -> dict[str, float]:
        return summarize_folds(self.folds)


@dataclass(frozen=True)
class Fold:
    fit: tuple[dt.date, ...]
    calibrate: dt.date
    test: dt.date

    def describe(self) -> dict:
        return {
            "test_cutoff": str(self.test),
            "calibration_cutoff": str(self.calibrate),
            "fit_cutoffs": f"{self.fit[0]}..{self.fit[-1]}",
        }


@dataclass(frozen=True)
class CvFold:
    """One fold of repeated stratified k-fold over the rows of a snapshot table."""

    number: int
    repeat: int
    fit: np.ndarray
    test: np.ndarray

    def describe(self) -> dict:
        return {"repeat": self.repeat, "fit_rows": len(self.fit), "test_rows": len(self.test)}


def cv_folds(
    y: np.ndarray, n_splits: int, n_repeats: int, seed: int, groups: np.ndarray | None = None
) -> list[CvFold]:
    """Stratified k-fold, repeated: for data without a time axis (a snapshot table). Rows that
    share a group (copies of one customer) always land in the same fold: the folds are drawn over
    groups, stratified on each group's first label."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    if groups is None or len(np.unique(groups)) == len(y):
        return [
            CvFold(i + 1, i // n_splits + 1, fit, test)
            for i, (fit, test) in enumerate(splitter.split(np.zeros(len(y)), y))
        ]
    _, first, codes = np.unique(groups, return_index=True, return_inverse=True)
    folds = []
    for i, (_, test_groups) in enumerate(splitter.split(np.zeros(len(first)), y[first])):
        test = np.isin(codes, test_groups)
        folds.append(CvFold(i + 1, i // n_splits + 1, np.flatnonzero(~test), np.flatnonzero(test)))
    return folds


def copy_groups(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One group per distinct row of the model's inputs: copies of a customer (identical in every
    column the model sees) share a group."""
    return pd.util.hash_pandas_object(frame[list(columns)], index=False).to_numpy()


def score_response(pipe, X: pd.DataFrame) -> np.ndarray:
    """The score sklearn's calibration reads: decision_function where the model has one
    (logistic: the log-odds), else the probability of churn (boosted trees)."""
    if hasattr(pipe, "decision_function"):
        return np.asarray(pipe.decision_function(X), dtype=float)
    return np.asarray(pipe.predict_proba(X)[:, 1], dtype=float)


def fit_score_calibrator(raw: np.ndarray, y: np.ndarray, method: str):
    """The map from a model's raw score to a probability, as sklearn's calibration fits it."""
    from sklearn.calibration import _SigmoidCalibration
    from sklearn.isotonic import IsotonicRegression

    if np.unique(y).size < 2:
        raise ChurnError("calibration needs both churners and stayers in the out-of-fold scores")
    raw = np.asarray(raw, dtype=float)
    if method == "sigmoid":
        return _SigmoidCalibration().fit(raw, y)
    if method == "isotonic":
        return IsotonicRegression(out_of_bounds="clip").fit(raw, y)
    raise ChurnError(f"split.cv_calibration={method!r}: use auto, sigmoid or isotonic")


def calibrate_out_of_fold(pipe, raw_oof: np.ndarray, y: np.ndarray, method: str = "sigmoid"):
    """The fitted pipeline with a calibrator learned on out-of-fold scores (`score_response`),
    never in-sample ones.

    A table without a time axis has no later fold to calibrate on, so the map from score to
    probability is learned on the cross-validation's own out-of-fold scores (one model fit, not
    one per inner fold). The result is sklearn's CalibratedClassifierCV, as `calibrate` returns,
    so explanations, skops and MLflow treat both the same way.
    """
    from sklearn.calibration import _CalibratedClassifier

    calibrator = fit_score_calibrator(raw_oof, y, method)
    classes = np.array([0, 1])
    model = CalibratedClassifierCV(pipe, method=method, ensemble=False)
    model.calibrated_classifiers_ = [
        _CalibratedClassifier(pipe, [calibrator], classes=classes, method=method)
    ]
    model.classes_ = classes
    if hasattr(pipe, "feature_names_in_"):
        model.feature_names_in_ = pipe.feature_names_in_
        model.n_features_in_ = len(pipe.feature_names_in_)
    return model


def closed_before(cutoffs: Sequence[dt.date], moment: dt.date, horizon_days: int) -> list[dt.date]:
    """Cutoffs whose label window [c, c + horizon) had closed by `moment`."""
    return [c for c in cutoffs if c + dt.timedelta(days=horizon_days) <= moment]


def rolling_folds(
    cutoffs: Sequence[dt.date], n_folds: int, horizon_days: int, min_fit_cutoffs: int = 3
) -> list[Fold]:
    """The last `n_folds` labelled cutoffs are tests, each trained only on what closed before it."""
    cutoffs = sorted(cutoffs)
    folds = []
    for test in cutoffs[-n_folds:]:
        usable = closed_before(cutoffs, test, horizon_days)
        if len(usable) < min_fit_cutoffs + 1:
            break
        folds.append(Fold(fit=tuple(usable[:-1]), calibrate=usable[-1], test=test))
    if len(folds) < n_folds:
        raise ChurnError(
            f"too few labelled cutoffs for {n_folds} out-of-time folds: {len(cutoffs)} labelled "
            f"cutoffs, each fold needs {min_fit_cutoffs + 1} whose {horizon_days}-day windows "
            "close "
            "before its test cutoff. Lower split.n_folds, or widen cutoffs.start/cutoffs.end."
        )
    return folds


def calibrate(fitted, X_cal: pd.DataFrame, y_cal: np.ndarray, method: str = "isotonic"):
    """Map a fitted model's scores to probabilities on a later fold, leaving the model as is."""
    if np.unique(y_cal).size < 2:
        raise ChurnError("the calibration cutoff has only one class; widen the cutoff range")
    return CalibratedClassifierCV(FrozenEstimator(fitted), method=method).fit(X_cal, y_cal)


def oracle_auc(y: np.ndarray, hazard: np.ndarray) -> float:
    """AUC of ranking by the simulator's true hazard: the best any model could reach."""
    return float(roc_auc_score(y, hazard))


def cross_validated(data, split: Mapping) -> bool:
    """`split.kind=cv`, or one cutoff (a customer table with a churn flag): no time axis."""
    one_cutoff = data.meta.get("mode") == "snapshot" or data.frame["cutoff"].nunique() == 1
    return split["kind"] == "cv" or one_cutoff


def data_fingerprint(data, target: str) -> dict[str, Any]:
    """What the model was trained on, logged with it: rows, cutoffs, base rate by cutoff."""
    rates = data.frame.groupby("cutoff")[target].mean()
    return {
        "rows": int(len(data.frame)),
        "cutoff_first": str(min(rates.index)),
        "cutoff_last": str(max(rates.index)),
        "rate_by_cutoff": {str(k): round(float(v), 5) for k, v in rates.items()},
        "feature_set_hash": data.meta["feature_set_hash"],
    }


def best_profit(backtest: BacktestResult) -> dict[str, float]:
    """The contact fraction that maximised profit, averaged over folds."""
    fractions = [f["best_profit_fraction"] for f in backtest.folds]
    return {"best_profit_fraction": float(np.mean(fractions))}
