"""Every feature family on the hand-written world; expected numbers are worked out by hand."""

from __future__ import annotations

import math

import duckdb  # noqa: F401
import ibis
import pandas as pd
import pytest

from tests.conftest import load_frames, snapshot_frame
from tests.features_fixture import CUTOFF, LOAD_DATE, frames


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    con = ibis.duckdb.connect()
    load_frames(con, frames(), tmp_path_factory.mktemp("hand"), LOAD_DATE)
    return snapshot_frame(con, CUTOFF, LOAD_DATE)


def test_spine_holds_customers_with_an_open_subscription(snap):
    # 4 ended everything on 2024-06-15, before the cutoff: never in the spine
    assert sorted(snap.index) == [1, 2, 3]


def test_tenure_and_lifecycle(snap):
    assert snap.loc[1, "tenure_days"] == 181  # 2024-01-02 -> 2024-07-01
    assert snap.loc[2, "tenure_days"] == 61
    assert (snap.loc[1, "early_life"], snap.loc[2, "early_life"]) == (0, 1)
    assert snap.loc[1, "signup_year"] == 2024 and snap.loc[1, "signup_quarter"] == 1
    assert snap.loc[2, "age_years"] == 34
    assert snap.loc[2, "segment"] == "business"


def test_rfm(snap):
    c1 = snap.loc[1]
    assert c1.recency_days == 11  # 2024-06-20; the purchase at the cutoff itself is not seen
    assert [c1[f"frequency_{w}d"] for w in (30, 90, 180, 365)] == [1, 2, 2, 3]
    assert [c1[f"monetary_{w}d"] for w in (30, 90, 180, 365)] == [10, 30, 30, 60]
    assert c1.avg_basket_365d == 20
    assert c1.frequency_per_month == pytest.approx(3 / (181 / 30.44))
    # RFM(T) over the whole relationship: days with a purchase, and the age since the first one
    assert c1.purchase_days == 3  # 2023-09-01, 2024-04-15, 2024-06-20
    assert c1.first_purchase_days == 304  # 2023-09-01 -> 2024-07-01
    c2 = snap.loc[2]  # no purchases: counts are 0, recency is unknown, not a made-up number
    assert c2.frequency_365d == 0 and c2.monetary_365d == 0 and c2.purchase_days == 0
    assert math.isnan(c2.recency_days) and math.isnan(c2.avg_basket_365d)
    assert math.isnan(c2.first_purchase_days)


def test_usage_trend(snap):
    c1 = snap.loc[1]
    # logins, visits and calls: last 90 days 06-28 (call), 06-25, 06-10, 05-01; the 90 before:
    # 02-01, 01-15 -> +100%
    assert c1.usage_change_90d_pct == pytest.approx(100.0)
    assert c1.days_since_last_interaction == 2  # the email open on 06-29
    assert (c1.logins_30d, c1.logins_365d, c1.visits_365d) == (2, 2, 3)
    # monthly counts, oldest first: [01-03..02-02)=2, ..., [04-02..05-02)=1, [05-02..06-01)=0,
    # [06-01..07-01)=3 -> slope of [2, 0, 0, 1, 0, 3] over x = 0..5 is 3 / 17.5 = 6/35
    assert c1.usage_slope_6m == pytest.approx(6 / 35)
    assert math.isnan(snap.loc[2, "usage_change_90d_pct"])
    assert math.isnan(snap.loc[2, "days_since_last_interaction"])


def test_complaints(snap):
    c1 = snap.loc[1]
    assert (c1.complaints_30d, c1.complaints_90d, c1.complaints_365d) == (2, 3, 3)
    assert c1.complaints_unresolved == 2  # one open, one resolved only after the cutoff
    assert c1.complaint_resolution_days_median == 10
    assert c1.complaint_resolution_days_max == 10
    assert c1.complaints_repeat_365d == 1  # a second billing complaint
    assert c1.days_since_last_complaint == 16
    assert c1.complaint_max_severity_365d == 3  # the severity-5 one is after the cutoff
    assert snap.loc[2, "complaints_unresolved"] == 0
    assert math.isnan(snap.loc[2, "days_since_last_complaint"])


def test_contract_days_left_counts_only_running_terms_of_open_subscriptions(snap):
    assert snap.loc[1, "contract_days_left"] == 20  # mobile to 2024-07-21; the ended tv not
    assert math.isnan(snap.loc[2, "contract_days_left"])  # no term: unknown, not 0
    assert snap.loc[3, "contract_days_left"] == 193  # 2024-07-01 -> 2025-01-10


def test_satisfaction(snap):
    c1 = snap.loc[1]
    # answers before the cutoff: 2023-12-01 NPS 8 (0.8), 2024-03-01 CSAT 2 after a complaint
    # (0.25), 2024-06-01 NPS 5 (0.5); 2024-06-20 was never answered; 2024-07-10 is after it
    assert c1.satisfaction_latest == pytest.approx(0.5)
    assert (c1.detractor_latest, c1.promoter_latest) == (1, 0)
    # last 180 days (from 2024-01-03): 0.25 and 0.5; the 180 before: 0.8
    assert c1.satisfaction_change_6m == pytest.approx(0.375 - 0.8)
    assert c1.days_since_last_survey == 30
    assert c1.survey_response_rate_365d == pytest.approx(3 / 4)
    assert c1.satisfaction_after_complaint == pytest.approx(0.25)
    c2 = snap.loc[2]  # one CSAT 5 after a purchase: a promoter, nothing to compare with
    assert c2.satisfaction_latest == 1.0 and (c2.detractor_latest, c2.promoter_latest) == (0, 1)
    assert math.isnan(c2.satisfaction_change_6m) and c2.days_since_last_survey == 16
    assert c2.survey_response_rate_365d == 1.0 and math.isnan(c2.satisfaction_after_complaint)
    c3 = snap.loc[3]  # never surveyed: unknown, not "unhappy" or "happy"
    assert math.isnan(c3.satisfaction_latest) and math.isnan(c3.survey_response_rate_365d)


def test_satisfaction_never_reads_a_survey_at_or_after_the_cutoff(tmp_path):
    changed = frames()
    surveys = changed["surveys"]
    later = surveys["ts"] >= pd.Timestamp(CUTOFF)
    surveys.loc[later, "score"] = surveys.loc[later, "scale"].map({"nps": 0.0, "csat": 1.0})
    surveys.loc[later, "type"] = "after_complaint"
    extra = surveys.iloc[:1].assign(ts=pd.Timestamp(CUTOFF), score=0.0, customer_id=2)
    changed["surveys"] = pd.concat([surveys, extra], ignore_index=True)
    con = ibis.duckdb.connect()
    load_frames(con, changed, tmp_path, LOAD_DATE)
    again = snapshot_frame(con, CUTOFF, LOAD_DATE)
    columns = [c for c in again.columns if "satisf" in c or "survey" in c or "_latest" in c]
    con = ibis.duckdb.connect()
    load_frames(con, frames(), tmp_path / "same", LOAD_DATE)
    before = snapshot_frame(con, CUTOFF, LOAD_DATE)
    pd.testing.assert_frame_equal(again[columns], before[columns])


def test_channel_mix(snap):
    c1 = snap.loc[1]
    # purchases and contacts in 365 days: store 4, web 2, app 1, phone 2 (email excluded)
    shares = [4 / 9, 2 / 9, 1 / 9, 2 / 9]
    assert [c1[f"share_{ch}_365d"] for ch in ("store", "web", "app", "phone")] == pytest.approx(
        shares
    )
    assert c1.channel_entropy_365d == pytest.approx(-sum(p * math.log(p) for p in shares))
    assert c1.channels_used_365d == 4
    assert c1.digital_share_365d == pytest.approx(3 / 9)
    assert c1.own_channel_share_365d == pytest.approx(7 / 9)
    assert c1.digital_shift_90d == pytest.approx(3 / 6 - 0 / 2)
    assert snap.loc[2, "channels_used_365d"] == 0
    assert math.isnan(snap.loc[2, "share_web_365d"])


def test_product_holding_and_price(snap):
    c1 = snap.loc[1]
    assert (c1.active_products, c1.bundle, c1.premium_plans) == (1, 0, 0)
    assert c1.monthly_fee == 24
    assert c1.fee_change_90d == 24 - (20 + 50)  # on 2024-04-02 it held mobile 20 and tv 50
    assert c1.price_increase_90d == 1
    assert (c1.cancellations_30d, c1.cancellations_365d) == (1, 1)  # tv; mobile was repriced
    assert snap.loc[3, "active_products"] == 1  # the upgrade on 07-20 is not known yet


def test_loyalty_and_social_bonds(snap):
    c1 = snap.loc[1]
    assert c1.loyalty_member == 1 and c1.points_balance == 250
    assert c1.redemption_rate_365d == pytest.approx(50 / 300)
    assert c1.redeemed_90d == 50
    assert c1.referrals_made == 1
    assert snap.loc[3, "loyalty_member"] == 0  # joins only in August


def test_campaigns(snap):
    c1 = snap.loc[1]
    assert (c1.offers_90d, c1.offers_365d) == (1, 2)
    assert c1.offer_response_rate_365d == 0.5  # the March answer came after the cutoff
    assert c1.days_since_last_offer == 16


def test_trailing_value(snap):
    fees = (20 * 129 + 24 * 52 + 50 * 151) * 12 / 365
    assert snap.loc[1, "revenue_12m"] == pytest.approx(fees + 60)
    assert snap.loc[2, "revenue_12m"] == pytest.approx(30 * 61 * 12 / 365)


def test_labels_come_from_the_window_after_the_cutoff(snap):
    assert snap.loc[2, "churn"] == 1  # last subscription ends 07-10
    assert snap.loc[1, "churn"] == 0
    assert (snap.loc[1, "cross_sell"], snap.loc[1, "upsell"]) == (1, 0)  # broadband on 07-15
    assert (snap.loc[3, "cross_sell"], snap.loc[3, "upsell"]) == (0, 1)  # basic -> premium
    assert snap.loc[3, "churn"] == 0  # the tv row ended but its upgrade runs on


def test_future_value_is_the_revenue_of_the_window_after_the_cutoff(tmp_path):
    """Three months from 2024-07-01: fees accrued to 2024-10-01 and purchases from the cutoff
    on, counted as revenue_12m counts them; the label CLV forecasts are checked against."""
    from tests.conftest import LABEL_CFG

    con = ibis.duckdb.connect()
    load_frames(con, frames(), tmp_path, LOAD_DATE)
    snap = snapshot_frame(con, CUTOFF, LOAD_DATE, {**LABEL_CFG, "value_horizon_months": 3})
    year = 12 / 365
    assert snap.loc[1, "future_value"] == pytest.approx(
        (24 * 92 + 40 * 78) * year + 999 + 999,  # mobile all along, broadband from 07-15
        abs=1e-4,
    )
    cent = 1e-4  # money is summed in ten-thousandths
    assert snap.loc[2, "future_value"] == pytest.approx(30 * 9 * year, abs=cent)  # left 07-10
    assert snap.loc[3, "future_value"] == pytest.approx((30 * 19 + 60 * 73) * year, abs=cent)


def test_value_window_ends_on_the_same_day_months_later():
    import datetime as dt

    from churn.dataset.labels import value_window_end

    assert value_window_end(dt.date(2024, 3, 1), 12) == dt.date(2025, 3, 1)
    assert value_window_end(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert value_window_end(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)  # a leap year


def test_snapshots_past_the_data_are_unlabelled(tmp_path):
    con = ibis.duckdb.connect()
    load_frames(con, frames(), tmp_path, LOAD_DATE)
    late = snapshot_frame(con, CUTOFF, data_end=CUTOFF)
    assert late[["churn", "cross_sell", "upsell", "future_value"]].isna().all().all()


def test_behavioural_churn_and_activity_spine(tmp_path):
    from churn.dataset.build import build_snapshot, warehouse_tables
    from churn.features import available_families
    from tests.conftest import CUTOFF_CFG, FEATURE_CFG, LABEL_CFG

    con = ibis.duckdb.connect()
    load_frames(con, frames(), tmp_path, LOAD_DATE)
    tables = warehouse_tables(con)
    labels = {**LABEL_CFG, "definition": "behavioural"}
    spine = {**CUTOFF_CFG, "spine": "activity", "lookback_days": 90}
    snap = (
        build_snapshot(
            tables, CUTOFF, FEATURE_CFG, labels, spine, LOAD_DATE, available_families(tables)
        )
        .execute()
        .set_index("customer_id")
    )
    assert list(snap.index) == [1]  # only customer 1 bought or made contact since 04-02
    assert snap.loc[1, "churn"] == 0  # and is active again on 07-01
    everyone = (
        build_snapshot(
            tables, CUTOFF, FEATURE_CFG, labels, CUTOFF_CFG, LOAD_DATE, available_families(tables)
        )
        .execute()
        .set_index("customer_id")
    )
    assert everyone.churn.to_dict() == {1: 0, 2: 1, 3: 1}  # 2 and 3 do nothing in July


def purchase_log_tables(con, tmp_path):
    """A transactions-only log (no channel, no customer file): customers from the first purchase."""
    import pandas as pd

    from churn.dataset.build import warehouse_tables
    from churn.validate import load_warehouse

    log = pd.DataFrame(
        [
            (1, "2024-01-10", 10.0),
            (1, "2024-01-10", 5.0),  # two rows on one day: one purchase day
            (1, "2024-05-02", 20.0),
            (1, "2024-07-03", 7.0),  # after the cutoff: only the label sees it
            (2, "2024-02-01", 8.0),
            (3, "2024-06-30", 4.0),
        ],
        columns=["customer_id", "ts", "amount"],
    ).assign(ts=lambda f: pd.to_datetime(f.ts))
    log.to_parquet(tmp_path / "log.parquet")
    sources = {
        "customers": {"derive": "first_purchase"},
        "transactions": {"path": str(tmp_path / "log.parquet")},
    }
    load_warehouse(con, sources, LOAD_DATE, max_reject_fraction=0.0)
    return warehouse_tables(con)


def test_purchase_log_skips_missing_families_and_builds_rfmt(tmp_path, caplog):
    from churn.dataset.build import build_snapshot
    from churn.features import announce_skipped_features, available_families, catalog
    from tests.conftest import CUTOFF_CFG, FEATURE_CFG, LABEL_CFG

    caplog.set_level("INFO")
    con = ibis.duckdb.connect()
    tables = purchase_log_tables(con, tmp_path)
    families = available_families(tables, announce=True)
    announce_skipped_features(tables, families, (30, 90, 180, 365))
    assert families == ["tenure_rfm", "value"]
    assert "skipping family channels (no interactions table or channel column in " in caplog.text
    assert "family tenure_rfm without age_years, segment, region, acquisition_channel" in (
        caplog.text
    )
    names = {f.name for f in catalog(families, (30, 90, 180, 365), tables)}
    assert not names & {"segment", "age_years", "share_web_365d", "complaints_unresolved"}
    labels = {**LABEL_CFG, "definition": "behavioural", "horizon_days": 30}
    spine = {**CUTOFF_CFG, "spine": "activity", "lookback_days": 730}
    snap = build_snapshot(tables, CUTOFF, FEATURE_CFG, labels, spine, LOAD_DATE, families)
    snap = snap.execute()
    assert snap["customer_id"].tolist() == [1, 2, 3]  # one row each, even from one event table
    snap = snap.set_index("customer_id")
    assert snap.loc[1, "purchase_days"] == 2 and snap.loc[1, "frequency_365d"] == 3
    assert snap.loc[1, "first_purchase_days"] == 173  # 2024-01-10 -> 2024-07-01
    assert snap.loc[1, "tenure_days"] == 173  # signed up on the first purchase
    assert snap.loc[1, "recency_days"] == 60  # 2024-05-02
    assert snap.loc[1, "revenue_12m"] == 35.0  # purchases only: there are no fees
    assert snap.churn.to_dict() == {1: 0, 2: 1, 3: 1}  # only 1 buys again before 07-31


def test_configured_windows_name_and_bound_every_windowed_count(tmp_path):
    """features.windows=[14, 60] on the hand world; each number worked out by hand."""
    from dataclasses import asdict

    from churn.config import FeaturesOptions

    con = ibis.duckdb.connect()
    load_frames(con, frames(), tmp_path, LOAD_DATE)
    windows = {**asdict(FeaturesOptions()), "windows": [14, 60]}
    snap = snapshot_frame(con, CUTOFF, LOAD_DATE, feature_cfg=windows)
    assert not {c for c in snap.columns if c.endswith(("_30d", "_180d"))}
    c1 = snap.loc[1]
    # purchases 06-20 (10), 04-15 (20), 2023-09-01 (30): 14 days reach back to 06-17, 60 to 05-02
    assert (c1.frequency_14d, c1.monetary_14d, c1.frequency_60d, c1.monetary_60d) == (1, 10, 1, 10)
    # complaints opened 06-15, 06-01, 05-01
    assert (c1.complaints_14d, c1.complaints_60d) == (0, 2)
    # logins 06-25 and 06-10; visits 05-01 (one day before the 60-day window), 02-01, 01-15
    assert (c1.logins_14d, c1.logins_60d, c1.visits_14d, c1.visits_60d) == (1, 2, 0, 0)
    assert (c1.cancellations_14d, c1.cancellations_60d) == (0, 1)  # the tv, ended 06-01
    # features named for a span of their own keep it: purchases per month over the last year
    assert c1.frequency_per_month == pytest.approx(3 / (181 / 30.44))
    assert c1.avg_basket_365d == 20 and c1.usage_change_90d_pct == pytest.approx(100.0)
