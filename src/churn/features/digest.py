"""Event digests: the big event tables summed once per customer and bucket, shared by all cutoffs.

A bucket is the span between two consecutive boundary days, and the boundaries are every day a
window can start or end: each cutoff and each cutoff minus each window. A window sum at any cutoff
is then an exact sum over whole buckets, so twelve cutoffs cost one pass over the events plus
twelve passes over the much smaller digest, not twelve passes over the events.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import ibis

from churn.features.base import FIXED_SPANS, in_money_units

CONTACT_CHANNELS = ("store", "web", "app", "phone")
USAGE_KINDS = ("login", "visit")
SLOPE_MONTHS = 6


def window_offsets(windows: Iterable[int]) -> list[int]:
    """Days before a cutoff where some feature window starts (0 is the cutoff itself): the
    configured windows, the fixed spans some features are named for, and the monthly slope."""
    slope = range(30, 30 * SLOPE_MONTHS + 1, 30)
    return sorted({0, *FIXED_SPANS, *windows, *slope})


def boundary_days(cutoffs: Iterable[dt.date], windows: Iterable[int]) -> list[dt.date]:
    offsets = window_offsets(windows)
    return sorted({c - dt.timedelta(days=d) for c in cutoffs for d in offsets})


@dataclass(frozen=True)
class Digest:
    """customer_id, bucket and summed measures; bucket i holds days in [b[i-1], b[i]).
    `offsets` are the window starts (days before a cutoff) the buckets line up with."""

    table: ibis.Table
    boundaries: tuple[dt.date, ...]
    offsets: tuple[int, ...]

    def index(self, day: dt.date) -> int:
        """Events on days before `day` are exactly those in buckets below this index."""
        pos = bisect.bisect_left(self.boundaries, day)
        if pos == len(self.boundaries) or self.boundaries[pos] != day:
            raise ValueError(f"{day} is not a digest boundary; add its window to the digest")
        return pos + 1


def bucket_of(ts: ibis.Value, bounds: list[ibis.Scalar], lo: int, hi: int) -> ibis.Value:
    """The number of boundaries at or before `ts`, by binary search written as nested CASEs."""
    if lo == hi:
        return ibis.literal(lo, "int32")
    mid = (lo + hi) // 2
    return ibis.ifelse(
        ts >= bounds[mid], bucket_of(ts, bounds, mid + 1, hi), bucket_of(ts, bounds, lo, mid)
    )


def bucket_events(events: ibis.Table, ts_col: str, boundaries: list[dt.date]) -> ibis.Table:
    """Events before the last boundary, each with its bucket (0 for days before the first)."""
    stamps = [ibis.timestamp(dt.datetime.combine(b, dt.time())) for b in boundaries]
    ev = events.filter(events[ts_col] < stamps[-1])
    return ev.mutate(bucket=bucket_of(ev[ts_col], stamps, 0, len(stamps) - 1))


def interaction_measures(ev: ibis.Table) -> dict:
    # count(where=) compiles to COUNT(*) FILTER, cheaper than summing a cast boolean
    return {
        "n_login": ev.count(where=ev.kind == "login"),
        "n_visit": ev.count(where=ev.kind == "visit"),
        "n_call": ev.count(where=ev.kind == "service_call"),
        **{f"n_{ch}": ev.count(where=ev.channel == ch) for ch in CONTACT_CHANNELS},
        "last_ts": ev.ts.max(),
    }


def transaction_measures(ev: ibis.Table) -> dict:
    """Buckets hold whole days, so distinct purchase days add up across buckets."""
    by_channel = (
        {f"n_{ch}": ev.count(where=ev.channel == ch) for ch in CONTACT_CHANNELS}
        if "channel" in ev.columns
        else {}
    )
    return {
        "n": ev.count(),
        "amount": in_money_units(ev.amount).sum(),  # exact: see MONEY_UNITS
        "n_days": ev.ts.date().nunique(),
        **by_channel,
        "first_ts": ev.ts.min(),
        "last_ts": ev.ts.max(),
    }


MEASURES = {"interactions": interaction_measures, "transactions": transaction_measures}


def build_digests(tables: dict[str, ibis.Table], cutoffs, windows) -> dict[str, Digest]:
    """Unmaterialised digests of the event tables present; `materialize_digests` stores them.

    Events older than the first boundary only ever feed whole-history features (days since the
    last or first one, distinct purchase days), so they are folded into one bucket-0 row per
    customer; window counts there are 0 because no window reaches that far back.
    """
    boundaries = boundary_days(cutoffs, windows)
    offsets = tuple(window_offsets(windows))
    first = ibis.timestamp(dt.datetime.combine(boundaries[0], dt.time()))
    out = {}
    for name, measures in MEASURES.items():
        if name not in tables:
            continue
        events = tables[name]
        recent = bucket_events(events.filter(events.ts >= first), "ts", boundaries)
        table = recent.group_by("customer_id", "bucket").agg(**measures(recent))
        old = events.filter(events.ts < first)
        history = {"last_ts": old.ts.max()}
        if "first_ts" in table.columns:
            history.update(first_ts=old.ts.min(), n_days=old.ts.date().nunique())
        old = old.group_by("customer_id").agg(**history)
        zeros = {
            k: ibis.literal(0, "int64")
            for k in table.columns
            if k not in {"customer_id", "bucket", *history}
        }
        old = old.mutate(bucket=ibis.literal(0, "int32"), **zeros).select(*table.columns)
        out[name] = Digest(ibis.union(table, old.cast(table.schema())), tuple(boundaries), offsets)
    return out


def materialize_digests(con, digests: dict[str, Digest]) -> dict[str, Digest]:
    """Compute each digest once into a warehouse table that every cutoff then reads."""
    return {
        name: Digest(
            con.create_table(f"_digest_{name}", d.table, overwrite=True), d.boundaries, d.offsets
        )
        for name, d in digests.items()
    }


def drop_digests(con, digests: dict[str, Digest]) -> None:
    for name in digests:
        con.drop_table(f"_digest_{name}", force=True)
