"""CLV from the churn hazard, cost to serve, segments and value metrics, on hand-checked numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn.value.clv import (
    MONTH_DAYS,
    ValueOptions,
    cost_to_serve,
    expected_months,
    lifetime_value,
    monthly_hazard,
)
from churn.value.metrics import normalized_gini, top_capture, value_metrics
from churn.value.segments import value_segments

UNDISCOUNTED = ValueOptions(horizon_months=12, discount_rate=0.0, margin_rate=0.3)


def test_the_label_hazard_becomes_a_monthly_one():
    assert monthly_hazard(np.array([0.5]), round(MONTH_DAYS * 2))[0] == pytest.approx(
        1 - 0.5 ** (MONTH_DAYS / round(MONTH_DAYS * 2))
    )
    assert monthly_hazard(np.array([0.0, 1.0]), 30).tolist() == [0.0, 1.0]


def test_a_customer_who_stays_brings_every_month_and_one_who_leaves_half_the_first():
    sure_to_leave = ValueOptions(discount_rate=0.0, label_horizon_days=MONTH_DAYS)
    months = expected_months(np.array([0.0, 1.0]), sure_to_leave)
    assert months.tolist() == [12.0, 0.5]  # leaving mid-month on average


def test_clv_is_monthly_margin_times_expected_months_discounted_a_month_at_a_time():
    stays = np.array([0.0])
    assert lifetime_value(stays, np.array([1200.0]), UNDISCOUNTED)[0] == pytest.approx(360.0)
    discounted = ValueOptions(discount_rate=0.1, margin_rate=0.3)
    expected = 30.0 * sum(1.1 ** (-t / 12) for t in range(1, 13))
    assert lifetime_value(stays, np.array([1200.0]), discounted)[0] == pytest.approx(expected)
    # a 10% chance of leaving in a month: survival 0.9 ** t, counted at mid-month
    p = np.array([0.1])
    month = ValueOptions(discount_rate=0.0, margin_rate=1.0, label_horizon_days=MONTH_DAYS)
    mid = sum(0.5 * (0.9 ** (t - 1) + 0.9**t) for t in range(1, 13))
    assert lifetime_value(p, np.array([12.0]), month)[0] == pytest.approx(mid)
    assert lifetime_value(np.array([0.0]), np.array([np.nan]), UNDISCOUNTED)[0] == 0.0


def test_cost_to_serve_counts_last_years_complaints_and_contacts_while_they_stay():
    opts = ValueOptions(discount_rate=0.0, cost_per_complaint=15.0, cost_per_contact=1.0)
    frame = pd.DataFrame({"complaints_365d": [2.0, np.nan], "offers_365d": [6.0, 0.0]})
    assert cost_to_serve(frame, np.zeros(2), opts).tolist() == pytest.approx([36.0, 0.0])
    assert cost_to_serve(frame[["offers_365d"]], np.zeros(2), opts).tolist() == [6.0, 0.0]


def test_segments_take_the_first_rule_that_holds():
    rules = {"high_performance_tiers": ["Platinum"], "high_potential_propensity": 0.2}
    out = value_segments(
        net_value=np.array([-1.0, 50.0, 50.0, 50.0, -5.0]),
        clv_tier=np.array(["Platinum", "Platinum", "Iron", "Iron", "Platinum"], dtype=object),
        growth=np.array([0.9, 0.0, 0.3, np.nan, 0.0]),
        rules=rules,
    )
    assert out.tolist() == [
        "below_zero",
        "high_performance",
        "high_potential",
        "core",
        "below_zero",
    ]
    no_growth_rule = value_segments(np.array([1.0]), np.array(["Iron"]), np.array([0.9]), {})
    assert no_growth_rule.tolist() == ["core"]


def test_value_metrics_on_a_ranking_checked_by_hand():
    predicted = np.array([4.0, 3.0, 2.0, 1.0])
    realized = np.array([0.0, 10.0, 0.0, 10.0])
    assert top_capture(predicted, realized, 0.5) == 0.5
    assert top_capture(realized, realized, 0.5) == 1.0
    assert normalized_gini(realized, realized) == pytest.approx(1.0)
    assert normalized_gini(-realized, realized) < 0  # the worst order
    metrics = value_metrics(predicted, realized)
    assert metrics["aggregate_error"] == pytest.approx(10.0 / 20.0 - 1.0)
    assert set(metrics) == {"spearman", "gini", "top10_capture", "top20_capture", "aggregate_error"}


def test_bgnbd_gamma_gamma_values_frequent_recent_buyers_above_lapsed_ones():
    from churn.value.purchases import bgnbd_gg_value

    rng = np.random.default_rng(0)
    n = 600
    age = rng.uniform(200, 400, n)
    days = 1 + rng.poisson(rng.gamma(1.0, 4.0, n))
    recency = np.where(days > 1, rng.uniform(0, 1, n) * age * 0.5, age)
    frame = pd.DataFrame(
        {
            "first_purchase_days": age,
            "purchase_days": days.astype(float),
            "recency_days": recency,
            "avg_basket_365d": rng.gamma(4.0, 10.0, n),
        }
    )
    never = pd.DataFrame(
        {"first_purchase_days": [np.nan], "purchase_days": [0.0], "recency_days": [np.nan]}
    ).assign(avg_basket_365d=np.nan)
    value = bgnbd_gg_value(pd.concat([frame, never], ignore_index=True), UNDISCOUNTED)
    assert value[-1] == 0.0 and (value[:-1] > 0).all()
    frequent = (frame.purchase_days >= 8) & (frame.recency_days < 30)
    lapsed = (frame.purchase_days <= 2) & (frame.recency_days > 150)
    assert value[:-1][frequent.to_numpy()].mean() > 3 * value[:-1][lapsed.to_numpy()].mean()
