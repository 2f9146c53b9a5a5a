"""The demo world: deterministic, consistent with its own rules, and honest about its truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churn.simulate.events import choose_nth_true
from churn.simulate.world import month_windows
from tests.conftest import make_world


def read(data_dir, table):
    return pd.read_parquet(data_dir / "raw" / f"{table}.parquet")


def test_same_seed_gives_byte_identical_tables(tmp_path):
    make_world(tmp_path / "a", n=300, seed=5)
    make_world(tmp_path / "b", n=300, seed=5)
    make_world(tmp_path / "c", n=300, seed=6)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert "ground_truth.json" in names and "customers.parquet" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "transactions.parquet").read_bytes() != (
        tmp_path / "c" / "transactions.parquet"
    ).read_bytes()


def test_every_event_lies_inside_the_customer_relationship(tiny_world):
    customers = read(tiny_world, "customers").set_index("customer_id")
    subs = read(tiny_world, "subscriptions")
    subs[["start_date", "end_date"]] = subs[["start_date", "end_date"]].apply(pd.to_datetime)
    first = subs.groupby("customer_id").start_date.min()
    assert (first.reindex(customers.index) == pd.to_datetime(customers.signup_date)).all()
    ended = subs.groupby("customer_id").end_date.apply(lambda s: s.notna().all())
    last_end = subs.groupby("customer_id").end_date.max().where(ended)
    for table, col in [("transactions", "ts"), ("interactions", "ts"), ("complaints", "opened_at")]:
        events = read(tiny_world, table)
        signup = pd.to_datetime(customers.signup_date.reindex(events.customer_id)).to_numpy()
        churned = last_end.reindex(events.customer_id).to_numpy()
        ts = events[col].to_numpy()
        assert (ts >= signup).all(), table
        assert ((ts < churned + np.timedelta64(1, "D")) | pd.isna(churned)).all(), table
        assert ts.max() < np.datetime64("2025-01-01"), table


def test_subscription_chains_are_consistent(tiny_world):
    subs = read(tiny_world, "subscriptions").set_index("subscription_id")
    succ = subs.dropna(subset=["previous_subscription_id"])
    prev = subs.loc[succ.previous_subscription_id.astype(int)]
    assert (prev.end_date.to_numpy() == succ.start_date.to_numpy()).all()
    assert (prev["product"].to_numpy() == succ["product"].to_numpy()).all()
    upgrades = succ.change_reason == "upgrade"
    plan_rank = {"basic": 0, "standard": 1, "premium": 2}
    assert (
        succ.plan[upgrades].map(plan_rank).to_numpy()
        > prev.plan[upgrades.to_numpy()].map(plan_rank).to_numpy()
    ).all()
    rises = (succ.change_reason == "price_change").to_numpy()
    assert (succ.monthly_fee.to_numpy()[rises] > prev.monthly_fee.to_numpy()[rises]).all()
    # never two open rows of the same product for one customer
    open_rows = subs[subs.end_date.isna()]
    assert not open_rows.duplicated(["customer_id", "product"]).any()


def test_ground_truth_names_every_driver_with_direction_and_strength(tiny_world):
    truth = json.loads((tiny_world / "raw" / "ground_truth.json").read_text())
    drivers = {d["name"]: d for d in truth["churn_drivers"]}
    assert drivers["unresolved_complaints"]["sign"] == 1
    assert drivers["products"]["direction"] == "lowers"
    assert drivers["referrals"]["driver_family"] == "social_bonds"
    assert all(d["strength"] > 0 for d in drivers.values())
    strengths = [d["strength"] for d in truth["churn_drivers"]]
    assert strengths == sorted(strengths, reverse=True)
    hazard = pd.read_parquet(tiny_world / "raw" / truth["hazard_table"])
    assert hazard.churn_hazard.between(0, 1).all()
    assert not hazard.duplicated(["customer_id", "month_start"]).any()


def test_hazard_rows_cover_exactly_the_customers_active_at_each_month_start(tiny_world):
    subs = read(tiny_world, "subscriptions")
    hazard = pd.read_parquet(tiny_world / "raw" / "ground_truth_hazard.parquet")
    cutoff = pd.Timestamp("2024-03-01")
    start, end = pd.to_datetime(subs.start_date), pd.to_datetime(subs.end_date)
    active = set(subs.customer_id[(start < cutoff) & (end.isna() | (end > cutoff))])
    at_cutoff = set(hazard.customer_id[pd.to_datetime(hazard.month_start) == cutoff])
    assert at_cutoff == active


def test_month_windows_cover_the_period_without_gaps():
    months = month_windows("2023-01-15", "2023-03-31")
    assert [m.days for m in months] == [17, 28, 31]
    assert all(a.end == b.start for a, b in zip(months, months[1:], strict=False))


def test_choose_nth_true_only_picks_true_columns():
    rng = np.random.default_rng(0)
    mask = np.array([[False, True, False, True]] * 1000)
    picks = choose_nth_true(rng, mask)
    assert set(picks) == {1, 3}
    assert 400 < (picks == 1).sum() < 600


@pytest.mark.parametrize(
    "table,columns",
    [
        (
            "customers",
            [
                "customer_id",
                "signup_date",
                "region",
                "segment",
                "acquisition_channel",
                "birth_year",
            ],
        ),
        (
            "subscriptions",
            [
                "subscription_id",
                "customer_id",
                "product",
                "plan",
                "monthly_fee",
                "start_date",
                "end_date",
            ],
        ),
        ("transactions", ["transaction_id", "customer_id", "ts", "channel", "product", "amount"]),
        ("interactions", ["customer_id", "ts", "channel", "kind"]),
        (
            "complaints",
            ["complaint_id", "customer_id", "opened_at", "resolved_at", "category", "severity"],
        ),
        ("campaigns", ["customer_id", "sent_at", "offer_type", "channel", "responded_at"]),
        ("loyalty_members", ["customer_id", "joined_at"]),
        ("referrals", ["referrer_id", "referred_id", "ts"]),
    ],
)
def test_tables_carry_the_documented_columns(tiny_world, table, columns):
    assert set(columns) <= set(read(tiny_world, table).columns)
