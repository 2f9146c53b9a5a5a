"""Call economics on hand-made customers: the net value of a call, a list ranked by risk when
value is unknown, below-zero customers never called, the policy `auto` picks and the reason an
empty list gives."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn.scoring.economics import (
    BELOW_ZERO,
    PREDICTED_HARM,
    Decision,
    call_economics,
    choose_policy,
    why_short,
)
from churn.scoring.policy import plan_calls

COSTS = {"contact_cost": 5.0, "acceptance_rate": 0.3, "incentive_cost": 20.0}


def customers(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "customer_id": np.arange(1, n + 1),
        "as_of": dt.date(2025, 6, 2),
        "churn_probability": 0.5,
        "uplift": np.nan,
        "clv": 1000.0,
        "value": 400.0,
        "max_compensation": 10.0,
        "value_segment": "core",
        "holdout": False,
    }
    return pd.DataFrame({**base, **columns})


def test_net_value_is_churn_prevented_times_clv_less_contact_and_the_offer_it_is_expected_to_pay():
    frame = customers(
        churn_probability=[0.5, 0.2, 0.5],
        clv=[1000.0, 100.0, np.nan],
        max_compensation=[10.0, 50.0, np.nan],
    )
    out = call_economics(frame, COSTS, Decision("expected_loss", False, True, ""))
    # 0.5 x 0.3 x 1000 - 5 - 0.3 x min(10, 20)
    assert out["expected_net_value"].iloc[0] == pytest.approx(150 - 5 - 3)
    # the offer is the incentive, capped by the playbook's maximum: min(50, 20) = 20
    assert out["offer_cost"].iloc[1] == pytest.approx(0.3 * 20)
    assert out["expected_net_value"].iloc[1] == pytest.approx(0.2 * 0.3 * 100 - 5 - 6)
    # no CLV: today's yearly value; no playbook entry: the incentive as it is
    assert out["expected_saved_value"].iloc[2] == pytest.approx(0.5 * 0.3 * 400)
    assert out["offer_cost"].iloc[2] == pytest.approx(6.0)


def test_with_value_unknown_the_list_is_ranked_by_risk_up_to_capacity_and_shows_no_money():
    risk = np.array([0.1, 0.9, 0.4, 0.7, 0.05, 0.6])
    frame = customers(churn_probability=risk, clv=np.nan, value=np.nan)
    decision = choose_policy("auto", None, value_known=False)
    assert decision.ranked_by == "churn risk"
    frame = frame.join(call_economics(frame, COSTS, decision))
    assert frame[["expected_net_value", "expected_saved_value", "offer_cost"]].isna().all().all()
    calls, _, _ = plan_calls(frame, {"capacity": 3, "policy": decision.policy, "holdout_salt": ""})
    assert list(frame.customer_id.iloc[calls]) == [2, 4, 6]


def test_with_value_unknown_and_a_response_model_ranking_follows_its_predicted_effect():
    frame = customers(uplift=[0.02, -0.01, 0.05, 0.0], clv=np.nan, value=np.nan)
    decision = choose_policy("auto", {"qini_uplift": 0.03, "qini_risk": 0.01}, value_known=False)
    assert decision.policy == "uplift_value"
    frame = frame.join(call_economics(frame, COSTS, decision))
    calls, _, _ = plan_calls(frame, {"capacity": 5, "policy": "expected_loss", "holdout_salt": ""})
    assert list(frame.customer_id.iloc[calls]) == [3, 1]  # never a zero or negative effect


def test_below_zero_customers_are_never_called():
    frame = customers(churn_probability=[0.9, 0.3], value_segment=[BELOW_ZERO, "core"])
    out = call_economics(frame, COSTS, Decision("expected_loss", False, True, ""))
    assert np.isnan(out["call_priority"].iloc[0]) and out["contact_rule"].iloc[0] == BELOW_ZERO
    assert out["call_priority"].iloc[1] > 0


@pytest.mark.parametrize(
    "evidence, policy, guard",
    [
        (None, "expected_loss", False),
        ({"qini_uplift": 0.030, "qini_risk": 0.012}, "uplift_value", False),
        ({"qini_uplift": 0.010, "qini_risk": 0.012}, "expected_loss", True),
    ],
)
def test_auto_follows_the_evidence(evidence, policy, guard):
    decision = choose_policy("auto", evidence, value_known=True)
    assert (decision.policy, decision.harm_guard) == (policy, guard)
    assert decision.why.startswith("auto:")


def test_auto_never_calls_a_customer_the_response_model_predicts_harm_for_outside_exploration():
    rng = np.random.default_rng(3)
    n = 2000
    frame = customers(
        churn_probability=rng.uniform(0, 1, n),
        uplift=rng.normal(0.0, 0.02, n),
        holdout=rng.random(n) < 0.1,
    )
    for evidence in (
        {"qini_uplift": 0.01, "qini_risk": 0.02},
        {"qini_uplift": 0.03, "qini_risk": 0.02},
    ):
        decision = choose_policy("auto", evidence, value_known=True)
        scored = frame.join(call_economics(frame, COSTS, decision))
        opts = {
            "capacity": 300,
            "policy": decision.policy,
            "explore_fraction": 0.1,
            "holdout_salt": "s",
        }
        calls, controls, explored = plan_calls(scored, opts)
        assert len(calls) == 300
        assert (scored.uplift.iloc[calls] > 0).all(), decision
        if not decision.uplift:
            assert (scored.contact_rule == PREDICTED_HARM).sum() > 0 and len(explored) == 0


def test_a_short_or_empty_list_says_the_best_saving_not_called_against_the_cost_and_the_keys():
    frame = customers(
        churn_probability=[0.05, 0.1, 0.9], clv=[50.0, 80.0, 900.0], max_compensation=0.0
    )
    costs = {**COSTS, "contact_cost": 10.0}
    decision = Decision("expected_loss", False, True, "")
    frame = frame.join(call_economics(frame, costs, decision))
    calls, _, _ = plan_calls(frame, {"capacity": 10, "policy": "expected_loss", "holdout_salt": ""})
    assert list(frame.customer_id.iloc[calls]) == [3]  # 0.9 x 0.3 x 900 - 10 pays; the rest not
    why = why_short(frame, costs, decision, len(calls))
    assert why["calls"] == 1 and why["reason"] == "no other call is worth its cost"
    assert why["best_expected_saved_value"] == pytest.approx(0.1 * 0.3 * 80)
    assert why["its_contact_cost"] == 10.0 and "costs.contact_cost" in why["keys"]
    nobody = frame.assign(call_priority=np.nan, contact_rule="cooldown")
    said = why_short(nobody, costs, decision, 0)
    assert said["calls"] == 0 and "kept out by a rule" in said["reason"]
