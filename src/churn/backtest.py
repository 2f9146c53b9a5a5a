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
