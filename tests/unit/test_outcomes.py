"""Outcome measurement on hand-made lists: arms, the call's effect with its interval,
calibration on the customers nobody called."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.outcomes.measure import (
    arm_table,
    bootstrap_gap,
    calibration,
    call_effect,
    flat_metrics,
    measure_list,
    production_auc,
)


def hand_list() -> pd.DataFrame:
    """10 called (1 churns), 10 control (4 churn), 5 others (2 churn)."""
    arms = ["call"] * 10 + ["control"] * 10 + ["none"] * 5
    churned = [1] + [0] * 9 + [1] * 4 + [0] * 6 + [1, 1, 0, 0, 0]
    return pd.DataFrame(
        {
            "customer_id": range(25),
            "treatment_group": arms,
            "churned": churned,
            "churn_probability": [0.5] * 20 + [0.9, 0.8, 0.1, 0.1, 0.2],
            "risk_band": ["high"] * 20 + ["high", "high", "low", "low", "low"],
            "clv": [100.0] * 25,
        }
    )


def test_arms_count_customers_and_churners_by_treatment_group():
    arms = {a["treatment_group"]: a for a in arm_table(hand_list())}
    assert arms["call"]["customers"] == 10 and arms["call"]["churned"] == 1
    assert arms["control"]["churn_rate"] == pytest.approx(0.4)
    assert arms["none"]["predicted_churn"] == pytest.approx(0.42)


def test_the_effect_is_control_minus_call_with_saved_customers_and_value():
    effect = call_effect(hand_list(), n_boot=500)
    assert effect["churn_reduction"] == pytest.approx(0.3)
    assert effect["saved_customers"] == pytest.approx(3.0)
    assert effect["saved_value"] == pytest.approx(300.0)  # 10 x (40 - 10) of CLV lost
    low, high = effect["churn_reduction_ci"]
    assert low < 0.3 < high


def test_the_interval_covers_a_known_effect_about_95_times_in_100():
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(100):
        control = (rng.random(400) < 0.30).astype(float)
        called = (rng.random(1600) < 0.20).astype(float)
        _, low, high = bootstrap_gap(control, called, n_boot=400, seed=int(rng.integers(1e6)))
        covered += low <= 0.10 <= high
    assert 88 <= covered <= 99


def test_no_control_group_means_no_effect_is_claimed():
    rows = hand_list()
    rows = rows[rows.treatment_group != "control"]
    effect = call_effect(rows)
    assert effect["measured"] is False
    assert "outcome_churn_reduction" not in flat_metrics(measure_list(rows, ["low", "high"], {}))


def test_calibration_and_auc_leave_the_called_out():
    rows = hand_list()
    bands = {b["risk_band"]: b for b in calibration(rows, ["low", "medium", "high"])}
    assert set(bands) == {"low", "high"}
    assert bands["high"]["customers"] == 12  # 10 control + 2 others
    assert bands["high"]["realized"] == pytest.approx(6 / 12)
    assert bands["low"]["realized"] == 0.0
    # called customers' labels would change the figure: flip them and nothing moves
    flipped = rows.assign(churned=np.where(rows.treatment_group == "call", 1, rows.churned))
    assert production_auc(flipped) == production_auc(rows)


def test_measure_list_compares_production_auc_with_the_backtest():
    result = measure_list(hand_list(), ["low", "medium", "high"], {"roc_auc": 0.8})
    assert result["model"]["roc_auc_gap"] == pytest.approx(result["model"]["roc_auc"] - 0.8)
    metrics = flat_metrics(result)
    assert metrics["outcome_churn_reduction"] == pytest.approx(0.3)
