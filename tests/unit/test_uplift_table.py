"""The response model on a customer table's randomized test: the uplift figures and their
intervals against hand-computed values, and planted effects of each sign found again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from churn.uplift.actions import best_of
from churn.uplift.evidence import policy_uplift
from churn.uplift.intervals import resamples, summarize, with_intervals
from churn.uplift.qini import auuc, qini_coefficient, uplift_at
from churn.uplift.table_job import measure, slug

# 8 customers, best-ranked first: 4 called (1) and 4 held out (0); churned 1
SCORE = np.array([8, 7, 6, 5, 4, 3, 2, 1])
CALLED = np.array([1, 0, 1, 0, 1, 0, 1, 0], dtype=bool)
CHURNED = np.array([0, 1, 0, 1, 1, 0, 1, 0])


def test_uplift_in_the_top_shares_by_hand():
    # top 4: held out churn 2 of 2, called 0 of 2 -> a contact prevents 1.0 churn per customer
    assert uplift_at(SCORE, CALLED, CHURNED, 0.5) == pytest.approx(1.0)
    # all 8: held out 2 of 4, called 2 of 4 -> 0
    assert uplift_at(SCORE, CALLED, CHURNED, 1.0) == pytest.approx(0.0)
    # top 1 holds one arm only: no figure rather than a made-up one
    assert np.isnan(uplift_at(SCORE, CALLED, CHURNED, 0.1))


def test_auuc_is_the_area_under_the_curve_and_qini_the_area_above_random():
    # the curve ends at 0 saved, so random's line is 0 and both areas are the same here
    assert auuc(SCORE, CALLED, CHURNED) == pytest.approx(qini_coefficient(SCORE, CALLED, CHURNED))
    shifted = np.where(np.arange(8) == 7, 1, CHURNED)  # the last held-out customer churns too
    assert auuc(SCORE, CALLED, shifted) > qini_coefficient(SCORE, CALLED, shifted)


def test_intervals_are_percentiles_of_the_resamples():
    drawn = {"qini": list(range(1, 101))}
    out = summarize(drawn, {"qini": 50.0})
    # numpy's linear percentiles of 1..100: 2.5% -> 3.475, 97.5% -> 97.525
    assert out == pytest.approx({"qini": 50.0, "qini_ci_low": 3.475, "qini_ci_high": 97.525})
    assert summarize(drawn, None)["qini"] == 50.5  # random: the resamples' mean


def test_resamples_keep_every_arms_size():
    arms = np.array(["a"] * 5 + ["b"] * 3 + ["c"] * 2)
    for rows, _ in resamples(arms, 20, seed=3):
        assert sorted(arms[rows].tolist()) == sorted(arms.tolist())


def test_a_perfect_ranking_lies_above_random_and_a_reversed_one_below():
    rng = np.random.default_rng(0)
    n = 6000
    effect = rng.choice([-0.1, 0.0, 0.3], n)
    called = rng.random(n) < 0.5
    churned = rng.random(n) < 0.5 - effect * called
    truth = with_intervals(effect, called, churned, 100, 0)
    random = with_intervals(None, called, churned, 100, 0)
    worst = with_intervals(-effect, called, churned, 100, 0)
    assert (
        truth["qini_ci_low"]
        > random["qini_ci_high"]
        > random["qini_ci_low"]
        > worst["qini_ci_high"]
    )
    assert truth["qini_ci_low"] < truth["qini"] < truth["qini_ci_high"]
    assert truth["uplift_at_30"] > random["uplift_at_30"] + 0.1


def test_best_action_and_the_policy_uplift_by_hand():
    effects = np.array([[0.3, 0.1], [0.0, 0.2], [-0.1, -0.2], [0.05, 0.05]])
    assert best_of(effects, ["A", "B"]).tolist() == ["A", "B", None, "A"]
    # 6 customers, all recommended A; 2 got A (none churned), 2 control (both churned), 2 got B
    rec = np.array(["A"] * 6, dtype=object)
    arm = np.array(["A", "A", "C", "C", "B", "B"], dtype=object)
    churned = np.array([0, 0, 1, 1, 0, 1])
    assert policy_uplift(np.arange(6)[::-1], rec, arm, churned, "C", 1.0) == pytest.approx(1.0)
    # recommended none: prevents nothing
    none = np.array([None] * 6, dtype=object)
    assert policy_uplift(np.arange(6), none, arm, churned, "C", 1.0) == 0.0


def planted_test(n: int = 4500, seed: int = 7) -> pd.DataFrame:
    """E-mail A cuts churn by 30 points where x > 0 and raises it by 15 where x < 0; e-mail B
    does the opposite. `noise` carries nothing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    arm = rng.choice(["A", "B", "none"], n)
    effect_a = np.where(x > 0, 0.30, -0.15)
    effect_b = np.where(x > 0, -0.15, 0.30)
    drop = np.where(arm == "A", effect_a, np.where(arm == "B", effect_b, 0.0))
    churned = rng.random(n) < 0.5 - drop
    return pd.DataFrame(
        {"x": x, "noise": rng.normal(size=n), "arm": arm, "churn": churned.astype(float)}
    )


def uplift_options(**changes) -> dict:
    cfg = OmegaConf.load("configs/uplift/default.yaml")
    cfg.risk_model_uri = "unused"
    opts = OmegaConf.to_container(cfg, resolve=True)
    opts.update(folds=3, repeats=1, inner_folds=2, bootstrap=60, choose_from=["t", "s"])
    opts.update(changes)
    return opts


def test_planted_effects_of_each_sign_are_found_with_the_best_action():
    rows = planted_test().rename(columns={"arm": "test_arm"})
    features = [{"name": "x", "kind": "numeric"}, {"name": "noise", "kind": "numeric"}]
    test = {"arm_column": "test_arm", "control": "none", "actions": ["A", "B"]}
    report, chosen = measure(rows, features, test, uplift_options())
    assert set(chosen.values()) <= {"t", "s"}
    for action in ("A", "B"):
        e = report["actions"][action]
        assert e["qini_ci_low"] > e["random"]["qini_ci_high"], action
        assert e["qini_ci_low"] > e["risk"]["qini"], action
        assert 0.3 < e["harmed_share"] < 0.7, action  # half the customers are pushed away
        assert e["deciles"][0]["observed"] > 0.15 > -0.05 > e["deciles"][-1]["observed"]
    best = report["best_action"]
    assert best["shares"]["A"] == pytest.approx(0.5, abs=0.1)
    assert best["uplift_at_30"] > max(s["uplift_at_30"] for s in best["single"].values()) - 0.02
    assert best["uplift_at_30"] > 0.2


def test_an_action_name_becomes_a_metric_key():
    assert slug("Womens E-Mail") == "womens_e_mail" and slug("10% off!") == "10_off"
