"""Rolling-origin folds: every fit and calibration cutoff closed before its test cutoff."""

from __future__ import annotations

import datetime as dt

import pytest

from churn.errors import ChurnError
from churn.training.backtest import rolling_folds

MONTHS = [dt.date(2024, m, 1) for m in range(1, 13)]


def test_folds_never_see_their_test_window():
    folds = rolling_folds(MONTHS, n_folds=3, horizon_days=30)
    assert [f.test for f in folds] == MONTHS[-3:]
    for fold in folds:
        # a cutoff's 30-day window must close by the test cutoff: no overlap with the test labels
        assert all(c + dt.timedelta(days=30) <= fold.test for c in (*fold.fit, fold.calibrate))
        assert fold.calibrate > max(fold.fit)  # calibration is a later fold than the fit
    assert folds[-1].calibrate == dt.date(2024, 11, 1)


def test_a_long_horizon_pushes_training_further_back():
    folds = rolling_folds(MONTHS, n_folds=1, horizon_days=90)
    assert folds[0].calibrate == dt.date(2024, 9, 1)


def test_too_few_cutoffs_is_a_clear_error():
    with pytest.raises(ChurnError, match="too few labelled cutoffs for 3 out-of-time folds"):
        rolling_folds(MONTHS[:5], n_folds=3, horizon_days=30)
