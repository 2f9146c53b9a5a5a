"""Out-of-time evaluation: rolling-origin folds over cutoffs, never a random split of snapshots.

For a test cutoff T the model is fitted on cutoffs whose label windows closed before T, except the
latest such cutoff, on which its probabilities are calibrated: calibration always uses a later
time fold than the fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import roc_auc_score

from churn.errors import ChurnError


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


def cv_folds(y: np.ndarray, n_splits: int, n_repeats: int, seed: int) -> list[CvFold]:
    """Stratified k-fold, repeated: for data without a time axis (a snapshot table)."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return [
        CvFold(i + 1, i // n_splits + 1, fit, test)
        for i, (fit, test) in enumerate(splitter.split(np.zeros(len(y)), y))
    ]


def fit_cross_calibrated(pipe, X: pd.DataFrame, y: np.ndarray, method: str):
    """No later time fold to calibrate on: cross-validated calibration, then one refit on all
    rows (a single model and calibrator, so explanations and scores use exactly that model)."""
    return CalibratedClassifierCV(pipe, method=method, cv=3, ensemble=False).fit(X, y)


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
