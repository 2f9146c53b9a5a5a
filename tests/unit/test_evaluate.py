"""Metric functions against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from churn.training.evaluate import (
    RetentionCosts,
    best_contact_fraction,
    contact_profit,
    expected_calibration_error,
    gains_curve,
    lift_at,
    profit_curve,
    score_fold,
    summarize_folds,
)

Y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
P = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])


def test_lift_at_top_fraction():
    # top 20% = 2 customers, 1 churner: rate 0.5 over base 0.2
    assert lift_at(Y, P, 0.2) == pytest.approx(2.5)
    assert lift_at(Y, P, 0.1) == pytest.approx(5.0)


def test_gains_curve_reaches_all_churners():
    frac, reached = gains_curve(Y, P)
    assert reached[1] == 0.5 and reached[3] == 1.0 and reached[-1] == 1.0
    assert frac[0] == 0.0 and frac[-1] == 1.0


def test_expected_calibration_error_by_hand():
    y = np.array([1, 0, 0, 0])
    p = np.array([0.95, 0.95, 0.05, 0.05])
    # bin 0.9-1.0: mean p 0.95, rate 0.5 -> 0.45 x 2; bin 0.0-0.1: 0.05 vs 0 -> 0.05 x 2
    assert expected_calibration_error(y, p) == pytest.approx((0.45 * 2 + 0.05 * 2) / 4)


def test_contact_profit_by_hand():
    costs = RetentionCosts(contact_cost=5, incentive_cost=20, acceptance_rate=0.5)
    profit = contact_profit([1, 0], [200, 200], costs)
    # churner: 0.5 * (200 - 20) - 5 = 85; stayer: -20 - 5 = -25
    assert profit.tolist() == [85.0, -25.0]


def test_profit_curve_and_best_fraction():
    costs = RetentionCosts(contact_cost=5, incentive_cost=20, acceptance_rate=0.5)
    value = np.full(10, 200.0)
    fractions, profit = profit_curve(Y, P, value, costs)
    # top 1: +85; top 2: 85 - 25 = 60; top 3: 145; then -25 each
    assert profit[:4].tolist() == [0.0, 85.0, 60.0, 145.0]
    assert best_contact_fraction(Y, P, value, costs) == (pytest.approx(0.3), pytest.approx(145.0))


def test_score_fold_and_summary():
    m = score_fold(Y, P, value=np.full(10, 100.0))
    assert m["roc_auc"] == pytest.approx(15 / 16)  # one stayer outranks one churner
    assert m["lift_10"] == pytest.approx(5.0)
    s = summarize_folds([{"roc_auc": 0.8}, {"roc_auc": 0.6}])
    assert s["roc_auc_mean"] == pytest.approx(0.7)
    assert s["roc_auc_std"] == pytest.approx(np.std([0.8, 0.6], ddof=1))


def test_single_class_fold_is_refused():
    with pytest.raises(ValueError, match="both churners and stayers"):
        score_fold([0, 0, 0], [0.1, 0.2, 0.3])
