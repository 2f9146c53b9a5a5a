"""The uplift_value policy on hand-made lists: capacity, exploration share, no call with a
non-positive predicted effect, the holdout kept as control."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn.scoring.economics import Decision, call_economics
from churn.scoring.policy import explore_key, plan_calls, top_candidates

COSTS = {"contact_cost": 5.0, "acceptance_rate": 0.3, "incentive_cost": 0.0}
UPLIFT = Decision("uplift_value", False, True, "test")
EXPECTED_LOSS = Decision("expected_loss", False, True, "test")


def with_economics(frame: pd.DataFrame, decision: Decision = UPLIFT) -> pd.DataFrame:
    full = frame.assign(
        churn_probability=frame.get("churn_probability", 0.2),
        max_compensation=np.nan,
        value_segment="core",
    )
    return frame.join(call_economics(full, COSTS, decision))


def hand_pool(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    uplift = rng.normal(0.01, 0.05, n)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "as_of": dt.date(2025, 6, 1),
            "uplift": uplift,
            "clv": rng.uniform(100, 2000, n),
            "value": 500.0,
            "expected_loss": rng.uniform(0, 300, n),
            "holdout": rng.random(n) < 0.1,
        }
    )
    return with_economics(frame)


def opts(**kw) -> dict:
    return {
        "capacity": 100,
        "policy": "uplift_value",
        "explore_fraction": 0.05,
        "holdout_salt": "s",
        **kw,
    }


def test_uplift_value_is_the_effect_times_clv_less_the_cost_and_empty_when_not_positive():
    frame = pd.DataFrame(
        {"uplift": [0.1, 0.0, -0.2, 0.05], "clv": [1000.0, 500.0, 800.0, np.nan], "value": 300.0}
    )
    out = with_economics(frame)
    net, priority = out["expected_net_value"].to_numpy(), out["call_priority"].to_numpy()
    assert net[0] == pytest.approx(95.0) and priority[0] == pytest.approx(95.0)
    assert np.isnan(priority[1]) and np.isnan(priority[2])  # never called
    assert net[3] == pytest.approx(0.05 * 300 - 5)  # no CLV: today's value


def test_capacity_is_kept_and_five_percent_of_it_is_exploration():
    pool = hand_pool()
    calls, controls, explored = plan_calls(pool, opts())
    assert len(calls) == 100
    explored_calls = np.intersect1d(calls, explored)
    assert len(explored_calls) == 5
    ranked = np.setdiff1d(calls, explored)
    # the ranked 95 are the best net values among non-holdout customers
    best = pool[~pool.holdout].nlargest(95, "call_priority").index
    assert set(ranked) == set(best)


def test_no_call_ever_goes_to_a_non_positive_predicted_effect():
    pool = hand_pool()
    calls, controls, _ = plan_calls(pool, opts(explore_fraction=0.5))
    assert (pool.uplift.iloc[calls] > 0).all()
    assert (pool.uplift.iloc[controls] > 0).all()


def test_holdout_customers_reached_are_control_never_called():
    pool = hand_pool()
    calls, controls, explored = plan_calls(pool, opts())
    assert not pool.holdout.iloc[calls].any()
    assert pool.holdout.iloc[controls].all() and len(controls) > 0
    # exploration keeps its own control group: held-out customers its draw reaches
    assert pool.holdout.iloc[np.intersect1d(explored, controls)].all()


def test_expected_loss_policy_explores_nothing():
    pool = hand_pool()[["customer_id", "as_of", "uplift", "clv", "value", "holdout"]]
    pool = with_economics(
        pool.assign(churn_probability=np.linspace(0.01, 0.9, len(pool))), EXPECTED_LOSS
    )
    calls, _, explored = plan_calls(pool, opts(policy="expected_loss"))
    assert len(calls) == 100 and len(explored) == 0


def test_exploration_draws_differ_by_week_and_repeat_within_one():
    ids = np.arange(10_000)
    a, b = explore_key(ids, "2025-06-01", "s"), explore_key(ids, "2025-06-08", "s")
    assert np.array_equal(a, explore_key(ids, "2025-06-01", "s"))
    assert np.corrcoef(a, b)[0, 1] < 0.05 and 0.45 < a.mean() < 0.55


def test_chunk_candidates_give_the_same_list_as_the_whole_pool():
    pool = hand_pool(3000, seed=2)
    chunks = [pool.iloc[i : i + 700] for i in range(0, len(pool), 700)]
    kept = pd.concat([top_candidates(c, opts()) for c in chunks])
    whole = plan_calls(pool, opts())
    partial = plan_calls(kept.reset_index(drop=True), opts())
    for full, part in zip(whole, partial, strict=True):
        assert set(pool.customer_id.iloc[full]) == set(kept.customer_id.iloc[part])


def test_an_unknown_policy_or_exploration_share_stops_before_scoring():
    from churn.errors import ConfigError
    from churn.scoring.economics import check_policy

    check_policy(opts())
    with pytest.raises(
        ConfigError,
        match="score.policy='biggest_first' is unknown: use auto, expected_loss, uplift_value",
    ):
        check_policy(opts(policy="biggest_first"))
    with pytest.raises(ConfigError, match="score.explore_fraction=1.5"):
        check_policy(opts(explore_fraction=1.5))
