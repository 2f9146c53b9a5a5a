"""No leakage: rows at or after a cutoff change no feature there; labels read only their window."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from churn.labels import TARGETS
from tests.conftest import load_frames, snapshot_frame

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
    return frame.drop(columns=list(TARGETS)).sort_index()


def build(frames, tmp_path, cutoff=CUTOFF):
    con = ibis.duckdb.connect()
    load_frames(con, frames, tmp_path, DATA_END)
    return snapshot_frame(con, cutoff, DATA_END)


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
