"""The BG/NBD baseline: its inputs from our RFM(T) features, its fit, and the fair comparison."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn.errors import ChurnError, ConfigError
from churn.training.baseline import bgnbd_churn_score, check_baseline, comparison_fit_cutoffs
from churn.value.bgnbd import fit_bgnbd, rfmt_summary

RFMT = ["purchase_days", "first_purchase_days", "recency_days"]


def test_rfmt_summary_in_weeks_by_hand():
    features = pd.DataFrame(
        {
            "purchase_days": [1, 4, 1],
            "first_purchase_days": [70.0, 140.0, 35.5],
            # one-time buyer; a regular; two purchases hours apart on one day (one purchase day)
            "recency_days": [70.0, 14.0, 35.2],
        }
    )
    summary = rfmt_summary(features)
    assert summary["frequency"].tolist() == [0.0, 3.0, 0.0]  # repeat purchase days
    assert summary["recency"].tolist() == [0.0, 18.0, 0.0]  # (140 - 14) / 7 weeks
    assert summary["T"].tolist() == [10.0, 20.0, 35.5 / 7]


def test_bgnbd_recovers_the_parameters_of_a_simulated_population():
    """lifetimes draws buyers from known BG/NBD parameters; turned into our features and back,
    the fit finds them again, so the units (days vs weeks, first vs last purchase) line up."""
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    fitted = fit_bgnbd(rfmt_summary(simulated_buyers(6000, 3))).params_
    assert fitted["r"] == pytest.approx(truth["r"], rel=0.2)
    assert fitted["alpha"] == pytest.approx(truth["alpha"], rel=0.3)
    assert fitted["a"] / (fitted["a"] + fitted["b"]) == pytest.approx(
        truth["a"] / (truth["a"] + truth["b"]), rel=0.25
    )


def simulated_buyers(n: int, seed: int) -> pd.DataFrame:
    """Buyers drawn by lifetimes from known BG/NBD parameters, as our RFM(T) features."""
    from lifetimes.generate_data import beta_geometric_nbd_model

    np.random.seed(seed)
    drawn = beta_geometric_nbd_model(39, 0.25, 4.0, 0.8, 2.5, n)
    return pd.DataFrame(
        {
            "purchase_days": drawn["frequency"] + 1,
            "first_purchase_days": drawn["T"] * 7,
            "recency_days": (drawn["T"] - drawn["recency"]) * 7,
        }
    )


def test_churn_scores_rank_a_lapsed_buyer_above_a_regular():
    model = fit_bgnbd(rfmt_summary(simulated_buyers(2000, 1)))
    people = pd.DataFrame(
        {
            "purchase_days": [8, 8, 1],
            "first_purchase_days": [250.0, 250.0, 250.0],
            "recency_days": [5.0, 200.0, 250.0],  # regular, lapsed regular, one-time buyer
        }
    )
    summary = rfmt_summary(people)
    expected = bgnbd_churn_score(model, summary, "expected_purchases", 273)
    assert expected[0] < expected[1]  # a lapsed regular is likelier to buy nothing
    assert expected[0] < expected[2]
    p_alive = bgnbd_churn_score(model, summary, "p_alive", 273)
    assert p_alive[0] < p_alive[1]
    # BG/NBD's known blind spot: a one-time buyer is always "alive" (churn score 0)
    assert p_alive[2] == pytest.approx(0.0)


def test_our_model_sees_only_labels_closed_by_the_baseline_cutoff():
    cutoffs = [dt.date(1997, m, 1) for m in range(2, 13)]
    closed = comparison_fit_cutoffs(cutoffs, 90, dt.date(1997, 10, 1))
    assert closed[-1] == dt.date(1997, 7, 1)  # 07-01 + 90 days = 09-29; 08-01 would reach 10-30
    assert all(c + dt.timedelta(days=90) <= dt.date(1997, 10, 1) for c in closed)
    with pytest.raises(ChurnError, match="no training cutoff has a label window closed"):
        comparison_fit_cutoffs(cutoffs, 273, dt.date(1997, 10, 1))


@pytest.mark.parametrize(
    ("baseline", "features", "message"),
    [
        ({"kind": "pareto_nbd"}, RFMT, "data.baseline.kind='pareto_nbd'"),
        ({"kind": "bgnbd", "rank_by": "clv"}, RFMT, "data.baseline.rank_by='clv'"),
        ({"kind": "bgnbd"}, RFMT[:2], "needs the RFM\\(T\\) features recency_days"),
    ],
)
def test_a_baseline_that_cannot_run_names_the_key(baseline, features, message):
    with pytest.raises(ConfigError, match=message):
        check_baseline(baseline, features)
