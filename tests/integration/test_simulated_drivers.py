"""The planted churn drivers show in the simulator's own raw tables, measured independently.

Pooled over monthly cutoffs, customers with a risk driver churn in the next 30 days at least 1.5x
as often as the base, and customers with a protective bond at most 0.67x as often. Everything is
computed here with plain pandas from the raw parquet files, not from the simulator's state.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("simulated_drivers")]  # one world


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    raw_dir = tmp_path_factory.mktemp("drivers") / "raw"
    # no retention calls: the risk rule calls price-rise and complaint customers first, and the
    # calls cut their churn, which is not what these tests measure (test_outcomes does)
    make_world(raw_dir, n=20_000, seed=11, start="2023-01-01", end="2025-12-31", calls=False)
    return {
        t: pd.read_parquet(raw_dir / f"{t}.parquet")
        for t in [
            "customers",
            "subscriptions",
            "complaints",
            "interactions",
            "loyalty_members",
            "loyalty_points",
            "referrals",
        ]
    }


def snapshot(raw: dict, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Indicators at one cutoff for customers with an open subscription, plus the 30-day label."""
    subs = raw["subscriptions"]
    start, end = pd.to_datetime(subs.start_date), pd.to_datetime(subs.end_date)
    open_now = subs[(start < cutoff) & (end.isna() | (end > cutoff))]
    frame = open_now.groupby("customer_id").size().rename("products").to_frame()
    last_end = (
        subs.assign(end=end)
        .groupby("customer_id")["end"]
        .agg(lambda s: s.max() if s.notna().all() else pd.NaT)
    )
    frame["churn"] = (
        frame.index.map(last_end)
        .to_series(index=frame.index)
        .between(cutoff, cutoff + pd.Timedelta(days=30), inclusive="right")
    )
    c = raw["complaints"]
    unresolved = c[(c.opened_at < cutoff) & (c.resolved_at.isna() | (c.resolved_at >= cutoff))]
    frame["unresolved"] = (
        unresolved.groupby("customer_id").size().reindex(frame.index, fill_value=0)
    )
    cust = raw["customers"].set_index("customer_id")
    frame["tenure"] = (cutoff - pd.to_datetime(cust.signup_date)).dt.days.reindex(frame.index)
    rises = subs[
        (subs.change_reason == "price_change")
        & (start >= cutoff - pd.Timedelta(days=90))
        & (start < cutoff)
    ]
    frame["price_rise"] = frame.index.isin(rises.customer_id)
    joined = pd.to_datetime(raw["loyalty_members"].set_index("customer_id").joined_at)
    frame["member"] = joined.reindex(frame.index) < cutoff
    refs = raw["referrals"]
    frame["referrer"] = frame.index.isin(refs[refs.ts < cutoff].referrer_id)
    i = raw["interactions"]
    i = i[(i.channel != "email") & (i.ts < cutoff) & (i.ts >= cutoff - pd.Timedelta(days=180))]
    recent = i.ts >= cutoff - pd.Timedelta(days=90)
    frame["last90"] = i[recent].groupby("customer_id").size().reindex(frame.index, fill_value=0)
    frame["prev90"] = i[~recent].groupby("customer_id").size().reindex(frame.index, fill_value=0)
    frame["phone_share"] = (i.channel == "phone").groupby(i.customer_id).mean().reindex(frame.index)
    return frame


@pytest.fixture(scope="module")
def pooled(raw) -> pd.DataFrame:
    cutoffs = pd.date_range("2024-01-01", "2025-11-01", freq="MS")
    return pd.concat([snapshot(raw, c) for c in cutoffs])


def rate_ratio(pooled: pd.DataFrame, mask: pd.Series) -> float:
    assert mask.sum() >= 200, "too few customer-months with the driver to judge"
    return pooled.churn[mask].mean() / pooled.churn.mean()


RISKS = {
    "two or more unresolved complaints": lambda f: f.unresolved >= 2,
    "early life (tenure under 180 days)": lambda f: f.tenure < 180,
    "price increase in the last 90 days": lambda f: f.price_rise,
    "phone-only service": lambda f: (f.phone_share >= 0.95) & (f.prev90 + f.last90 >= 3),
    "usage in the last 90 days down 70% on the 90 before": (
        lambda f: (f.prev90 >= 6) & (f.last90 <= 0.3 * f.prev90)
    ),
}
BONDS = {
    "three or more products": lambda f: f.products >= 3,
    "loyalty member": lambda f: f.member,
    "referred someone": lambda f: f.referrer,
}


@pytest.mark.parametrize("name", list(RISKS))
def test_risk_driver_raises_churn(pooled, name):
    assert rate_ratio(pooled, RISKS[name](pooled)) >= 1.5


@pytest.mark.parametrize("name", list(BONDS))
def test_bond_lowers_churn(pooled, name):
    assert rate_ratio(pooled, BONDS[name](pooled)) <= 0.67


def test_base_rate_is_a_realistic_monthly_churn(pooled):
    assert 0.01 <= pooled.churn.mean() <= 0.06
    assert np.isfinite(pooled.tenure).all()
