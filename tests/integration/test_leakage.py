"""No leakage: rows at or after a cutoff change no feature there; labels read only their window."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from churn.dataset.labels import FUTURE_VALUE, TARGETS
from tests.conftest import LABEL_CFG, load_frames, snapshot_frame

CUTOFF = dt.date(2024, 3, 1)
DATA_END = dt.date(2024, 12, 31)
TS_COLUMNS = {
    "transactions": ["ts"],
    "interactions": ["ts"],
    "complaints": ["opened_at", "resolved_at"],
    "campaigns": ["sent_at", "responded_at"],
    "loyalty_points": ["ts"],
    "referrals": ["ts"],
    "subscriptions": ["start_date", "end_date"],
    "loyalty_members": ["joined_at"],
}


@pytest.fixture(scope="module")
def raw(tiny_world):
    return {
        t: pd.read_parquet(tiny_world / "raw" / f"{t}.parquet")
        for t in TS_COLUMNS | {"customers": 0}
    }


def as_ts(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series)


def scramble_from(raw: dict, moment: dt.date, seed: int = 0) -> dict:
    """Delete, change and add rows dated at or after `moment`; leave everything before alone."""
    rng = np.random.default_rng(seed)
    limit = pd.Timestamp(moment)
    out = {}
    for name, frame in raw.items():
        frame = frame.copy()
        cols = TS_COLUMNS.get(name, [])
        if not cols:
            out[name] = frame
            continue
        first = as_ts(frame[cols[0]])
        future = (first >= limit).to_numpy()
        drop = future & (rng.random(len(frame)) < 0.5)
        frame = frame[~drop].copy()
        future = future[~drop]
        for col in cols[1:]:  # later dates of rows that began before: move them around, still late
            later = (as_ts(frame[col]) >= limit).to_numpy()
            shift = pd.to_timedelta(rng.integers(0, 40, later.sum()), unit="D")
            moved = (as_ts(frame.loc[later, col]) + shift).clip(upper=pd.Timestamp(DATA_END))
            frame.loc[later, col] = moved.dt.date if name == "subscriptions" else moved
        for col in frame.columns:
            if col in {"amount", "points", "monthly_fee"}:
                frame.loc[future, col] = frame.loc[future, col] * 3
            if col == "channel" and name in {"transactions", "interactions"}:
                frame.loc[future, col] = "phone"
        if name in {"transactions", "interactions", "campaigns", "loyalty_points"} and len(frame):
            extra = frame.sample(20, replace=True, random_state=seed).copy()
            room = (pd.Timestamp(DATA_END) - limit).days
            stamp = limit + pd.to_timedelta(rng.integers(0, room, len(extra)), unit="D")
            extra[cols[0]] = stamp
            for col in cols[1:]:
                extra[col] = pd.NaT
            if "transaction_id" in extra:
                extra["transaction_id"] = np.arange(len(extra)) + frame.transaction_id.max() + 1
            frame = pd.concat([frame, extra], ignore_index=True)
        out[name] = frame
    return out


def features_only(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[*TARGETS, FUTURE_VALUE]).sort_index()


def build(frames, tmp_path, cutoff=CUTOFF, label_cfg=None):
    con = ibis.duckdb.connect()
    load_frames(con, frames, tmp_path, DATA_END)
    return snapshot_frame(con, cutoff, DATA_END, label_cfg)


def test_rows_at_or_after_the_cutoff_change_no_feature(raw, tmp_path):
    before = build(raw, tmp_path / "a")
    after = build(scramble_from(raw, CUTOFF), tmp_path / "b")
    assert len(before) > 100
    pd.testing.assert_frame_equal(features_only(before), features_only(after))


def test_rows_before_the_cutoff_do_change_features(raw, tmp_path):
    """The leakage test can fail: the same scramble a month earlier moves features."""
    before = build(raw, tmp_path / "a")
    after = build(scramble_from(raw, CUTOFF - dt.timedelta(days=31)), tmp_path / "b")
    assert not features_only(before).equals(features_only(after))


def test_labels_read_only_their_window(raw, tmp_path):
    window_end = CUTOFF + dt.timedelta(days=30)
    before = build(raw, tmp_path / "a")
    after = build(scramble_from(raw, window_end, seed=3), tmp_path / "b")
    pd.testing.assert_frame_equal(before[list(TARGETS)], after[list(TARGETS)])
    assert before.churn.sum() > 0


def test_future_value_reads_only_its_window_and_is_null_while_it_is_open(raw, tmp_path):
    six_months = {**LABEL_CFG, "value_horizon_months": 6}  # 2024-03-01 to 2024-09-01
    before = build(raw, tmp_path / "a", label_cfg=six_months)
    after = build(
        scramble_from(raw, dt.date(2024, 9, 1), seed=4), tmp_path / "b", label_cfg=six_months
    )
    pd.testing.assert_series_equal(before[FUTURE_VALUE], after[FUTURE_VALUE])
    assert before[FUTURE_VALUE].notna().all() and (before[FUTURE_VALUE] > 0).mean() > 0.5
    inside = build(
        scramble_from(raw, dt.date(2024, 6, 1), seed=4), tmp_path / "c", label_cfg=six_months
    )
    assert not before[FUTURE_VALUE].equals(inside[FUTURE_VALUE])  # the test can fail
    open_window = build(raw, tmp_path / "d")  # 12 months from 2024-03-01 pass the data's end
    assert open_window[FUTURE_VALUE].isna().all()


def purchase_log(seed: int = 5, n: int = 400) -> pd.DataFrame:
    """Buyers who join in Q1 2024 and buy at their own rate until they silently drop out."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(1, n + 1):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 90)))
        rate, dropout = rng.gamma(1.0, 1 / 20), rng.uniform(0.05, 0.6)
        while day <= pd.Timestamp(DATA_END):
            rows.append((customer, day, round(float(rng.gamma(2.0, 15.0)), 2)))
            if rng.random() < dropout:
                break
            day += pd.Timedelta(days=1 + min(int(rng.exponential(1 / rate)), 400))
    return pd.DataFrame(rows, columns=["customer_id", "ts", "amount"])


def baseline_metrics(log: pd.DataFrame, tmp_path) -> dict:
    """The BG/NBD comparison of a purchase log, through validate, features and the comparison."""
    from churn.cli import compose_config
    from churn.dataset.build import write_snapshots
    from churn.training.baseline import compare_with_baseline
    from churn.training.train import load_training_data
    from churn.validate import load_warehouse

    tmp_path.mkdir(parents=True)
    log.to_parquet(tmp_path / "log.parquet")
    overrides = [
        f"paths.data_dir={tmp_path}",
        "data.cutoffs.start=2024-02-01",
        "data.cutoffs.end=2024-12-01",
        "data.labels.horizon_days=60",
        "data.baseline.cutoff=2024-07-01",
        "data.baseline.horizon_days=150",
    ]
    build = compose_config("build_features", "data=cdnow", *overrides)
    sources = {
        "customers": {"derive": "first_purchase"},
        "transactions": {"path": str(tmp_path / "log.parquet")},
    }
    con = ibis.duckdb.connect()
    load_warehouse(con, sources, DATA_END, max_reject_fraction=0.0)
    write_snapshots(
        con,
        tmp_path / "features",
        build["features"],
        build["labels"],
        build["cutoffs"],
        str(DATA_END),
        baseline=build["data"]["baseline"],
    )
    cfg = compose_config("train", "data=cdnow", *overrides)
    data = load_training_data(tmp_path, "churn")
    metrics, _ = compare_with_baseline(data, cfg, tmp_path / "features")
    return metrics


def test_the_bgnbd_comparison_reads_nothing_after_its_cutoff_but_the_holdout_label(tmp_path):
    """Purchases after the baseline cutoff are re-priced and doubled: who buys in the holdout is
    unchanged, so both rankings and both scores must be too. Changing June moves them."""
    log = purchase_log()
    before = baseline_metrics(log, tmp_path / "before")
    future = log["ts"] >= pd.Timestamp("2024-07-01")
    later = log[future].assign(amount=lambda f: f.amount * 3)
    changed = pd.concat([log[~future], later, later.assign(ts=later.ts + pd.Timedelta(hours=5))])
    assert baseline_metrics(changed, tmp_path / "after") == before
    june = (log["ts"] >= pd.Timestamp("2024-06-01")) & ~future
    moved = baseline_metrics(log[~june], tmp_path / "june")
    assert moved["bgnbd_r"] != before["bgnbd_r"] and moved["roc_auc"] != before["roc_auc"]


@pytest.mark.parametrize("empty", ["complaints", "campaigns", "referrals"])
def test_an_empty_table_loads_and_reads_as_customers_without_such_events(raw, tmp_path, empty):
    """A business with no complaints yet: zero counts, as for a customer without complaints."""
    from churn.warehouse import connection

    frames = {**raw, empty: raw[empty].iloc[:0]}
    warehouse = {"backend": "duckdb", "path": str(tmp_path / "w.duckdb")}
    with connection(warehouse) as con:
        load_frames(con, frames, tmp_path / "raw", DATA_END)
        assert con.table(empty).count().execute() == 0
        frame = snapshot_frame(con, CUTOFF, DATA_END)
    counts = {
        "complaints": "complaints_90d",
        "campaigns": "offers_90d",
        "referrals": "referrals_made",
    }[empty]
    assert len(frame) > 0 and (frame[counts] == 0).all()
