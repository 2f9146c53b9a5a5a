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


def test_retention_calls_change_the_hazard_by_the_planted_effect_of_each_group(tmp_path):
    """Called customers live under the called hazard, held-out and unpicked ones under the
    untreated one; every group moves the way ground_truth.json says, sleeping dogs the wrong way."""
    _, truth = make_world(tmp_path / "raw", n=2_000, seed=3)
    hz = read(tmp_path, "ground_truth_hazard")
    called = hz.treatment_group == "call"
    assert called.sum() > 100 and (hz.treatment_group == "control").sum() > 20
    applied = np.where(called, hz.churn_hazard_called, hz.churn_hazard_untreated)
    assert np.array_equal(hz.churn_hazard.to_numpy(), applied)
    effects = truth["retention_calls"]["effects"]
    change = (hz.churn_hazard_called - hz.churn_hazard_untreated).groupby(
        hz.response_group.astype(str)
    )
    for group, moved in change.agg(["min", "max"]).iterrows():
        sign = np.sign(effects[group]["log_odds"])
        assert (np.sign(moved) == sign).all(), group
    assert effects["sleeping_dog"]["direction"] == "pushes to leave"
    before = hz.month_start < pd.Timestamp(truth["retention_calls"]["program"]["start"]).date()
    assert (hz.treatment_group[before] == "none").all()


def test_campaigns_log_each_pick_on_the_first_of_its_month_with_its_arm(tmp_path):
    make_world(tmp_path / "raw", n=1_000, seed=4)
    hz = read(tmp_path, "ground_truth_hazard")
    cp = read(tmp_path, "campaigns")
    tests = cp[cp.treatment_group.notna()]
    assert set(tests.offer_type) == {"retention"} and set(cp.offer_type) >= {"cross_sell"}
    assert (tests.sent_at.dt.day == 1).all()
    logged = tests.assign(month_start=tests.sent_at.dt.date)
    picked = hz[hz.treatment_group != "none"].astype({"treatment_group": str})
    key = ["customer_id", "month_start", "treatment_group"]
    assert sorted(map(tuple, logged[key].to_numpy())) == sorted(map(tuple, picked[key].to_numpy()))
    assert tests[tests.treatment_group == "control"].responded_at.isna().all()


def test_a_published_list_is_called_in_its_month_and_the_world_before_it_is_unchanged(tmp_path):
    """The closed loop: the world calls the product's own call group and holds out its control
    group in the list's month; nothing dated before that month changes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from churn.simulate.app import write_demo_world
    from churn.simulate.options import RetentionProgram

    make_world(tmp_path / "a" / "raw", n=600, seed=9)
    hz = read(tmp_path / "a", "ground_truth_hazard")
    month = pd.Timestamp("2024-06-01").date()
    at_risk = hz[hz.month_start == month].customer_id.to_numpy()
    calls, controls = at_risk[:40], at_risk[40:50]
    partition = tmp_path / "scores" / "as_of=2024-06-01"
    partition.mkdir(parents=True)
    group = ["call"] * 40 + ["control"] * 10 + ["none"] * (at_risk.size - 50)
    frame = pa.table({"customer_id": at_risk, "treatment_group": group})  # noqa: F841
    pq.write_table(frame, partition / "part-00000.parquet")
    program = RetentionProgram(call_lists=str(tmp_path / "scores"))
    write_demo_world(tmp_path / "b" / "raw", 600, "2023-01-01", "2024-12-31", 9, retention=program)
    hz_b = read(tmp_path / "b", "ground_truth_hazard")
    june = hz_b[hz_b.month_start == month].set_index("customer_id").treatment_group.astype(str)
    assert set(june[june == "call"].index) == set(calls)
    assert set(june[june == "control"].index) == set(controls)
    for table, col in [
        ("transactions", "ts"),
        ("complaints", "opened_at"),
        ("campaigns", "sent_at"),
    ]:
        a, b = read(tmp_path / "a", table), read(tmp_path / "b", table)
        cut = pd.Timestamp(month)
        earlier_a = a[a[col] < cut].reset_index(drop=True)
        earlier_b = b[b[col] < cut].reset_index(drop=True)
        pd.testing.assert_frame_equal(earlier_a, earlier_b, check_categorical=False)
