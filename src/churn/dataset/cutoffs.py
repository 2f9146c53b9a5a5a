"""Cutoff dates and the spine: who is a customer at each cutoff."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from churn.errors import ConfigError
from churn.features.base import KEYS, Context

FREQUENCIES = {"monthly": "MS", "weekly": "W-MON", "quarterly": "QS"}


def cutoff_dates(freq: str, start: str, end: str) -> list[dt.date]:
    """Cutoffs from config, e.g. monthly from 2024-01-01 to 2025-12-01 inclusive."""
    if freq not in FREQUENCIES:
        raise ConfigError(f"cutoffs.freq={freq!r} is unknown: use {', '.join(FREQUENCIES)}")
    dates = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=FREQUENCIES[freq])
    if len(dates) == 0:
        raise ConfigError(f"no cutoff between cutoffs.start={start} and cutoffs.end={end}")
    return [d.date() for d in dates]


def build_spine(ctx: Context, mode: str = "subscription", lookback_days: int = 90) -> ibis.Table:
    """(customer_id, cutoff) of everyone who is a customer at each cutoff.

    subscription: an open subscription at the cutoff (started before it, not ended before it),
    so customers who had already churned are never in it. activity: any purchase or contact in
    the lookback, for businesses without contracts.
    """
    if mode == "subscription":
        subs = ctx.before("subscriptions", "start_date")
        open_now = subs.end_date.isnull() | (subs.end_date >= subs.cutoff)
        return subs.filter(open_now).select(*KEYS).distinct()
    if mode == "activity":
        parts = [
            ctx.before(t, "ts", lookback_days).select(*KEYS)
            for t in ("transactions", "interactions")
            if ctx.has(t)
        ]
        if not parts:
            raise ConfigError("cutoffs.spine=activity needs a transactions or interactions table")
        return ibis.union(*parts).distinct()
    raise ConfigError(f"cutoffs.spine={mode!r} is unknown: use subscription or activity")
