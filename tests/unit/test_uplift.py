"""The response model's pieces: Qini on hand-made tests, arms on cutoffs, and a learner that
finds a planted effect of known sign."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from churn.uplift.arms import attach_cutoffs
from churn.uplift.model import build_uplift_model
from churn.uplift.qini import qini_coefficient, qini_curve

D = dt.date


def test_qini_of_a_hand_made_test():
    """4 called (none of the first two churn), 4 held out (the first two churn): the ranking
    that puts the saved first climbs to 2 saved churners, then falls back as called ones come."""
    score = np.array([8, 7, 6, 5, 4, 3, 2, 1])
    called = np.array([1, 0, 1, 0, 1, 0, 1, 0], dtype=bool)
    churned = np.array([0, 1, 0, 1, 1, 0, 1, 0])
    share, saved = qini_curve(score, called, churned, points=9)
    assert saved[-1] == pytest.approx(0.0)  # 2 held-out and 2 called churners in the end
    assert saved[4] == pytest.approx(2 / 8)  # top 4: 2 held-out churners, 0 called
    assert qini_coefficient(score, called, churned) > 0
    assert qini_coefficient(-score, called, churned) < 0


def test_a_random_ranking_scores_about_zero_and_the_truth_scores_best():
    rng = np.random.default_rng(0)
    n = 20_000
    effect = rng.choice([-0.1, 0.0, 0.2], n)
    called = rng.random(n) < 0.5
    churned = rng.random(n) < 0.3 - effect * called
    randoms = [qini_coefficient(rng.random(n), called, churned) for _ in range(20)]
    truth = qini_coefficient(effect, called, churned)
    assert abs(np.mean(randoms)) < 0.002 and truth > 0.01 > max(randoms)


def test_arms_sit_on_the_latest_cutoff_before_them_within_the_allowed_days():
    arms = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 1, 4],
            "sent": [D(2024, 2, 1), D(2024, 2, 5), D(2024, 2, 20), D(2024, 2, 3), D(2024, 1, 5)],
            "treated": [1, 0, 1, 0, 1],
        }
    )
    out = attach_cutoffs(arms, [D(2024, 2, 1), D(2024, 3, 1)], max_days=7)
    # customer 3 was called 19 days after the cutoff; customer 4 before the first cutoff
    assert sorted(out.customer_id) == [1, 2]
    first = out.set_index("customer_id").loc[1]
    assert first.treated == 1 and first.cutoff == D(2024, 2, 1)  # the first test of the two


def test_the_response_model_finds_a_planted_effect_of_each_sign():
    """A call cuts churn by 20 points where `complaints` > 0 and raises it by 10 where
    `sleepy` is 1; the model's predicted drop has those signs, group by group."""
    rng = np.random.default_rng(1)
    n = 6_000
    frame = pd.DataFrame(
        {
            "complaints": rng.integers(0, 3, n).astype(float),
            "sleepy": (rng.random(n) < 0.3).astype(float),
            "region": rng.choice(["north", "south"], n),
        }
    )
    frame.loc[frame.sleepy == 1, "complaints"] = 0.0
    frame.loc[rng.random(n) < 0.05, "complaints"] = np.nan  # missing values must be accepted
    treated = (rng.random(n) < 0.5).astype(int)
    drop = np.where(frame.complaints > 0, 0.2, np.where(frame.sleepy == 1, -0.1, 0.0))
    churned = (rng.random(n) < 0.3 - drop * treated).astype(int)
    features = [
        {"name": "complaints", "kind": "numeric"},
        {"name": "sleepy", "kind": "numeric"},
        {"name": "region", "kind": "categorical"},
    ]
    cfg = OmegaConf.load("configs/uplift/default.yaml")
    cfg.risk_model_uri = "unused"  # names the churn model's registry, composed elsewhere
    opts = OmegaConf.to_container(cfg, resolve=True)
    model = build_uplift_model(opts, features).fit(frame, churned, treated)
    predicted = pd.Series(model.predict(frame))
    by_group = predicted.groupby(np.sign(drop)).mean()
    assert by_group[1.0] > 0.1 and by_group[-1.0] < -0.03 and abs(by_group[0.0]) < 0.05
