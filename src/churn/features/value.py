"""Customer value: trailing revenue, and value tiers fitted on training cutoffs only."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from churn.columns import TIERS, VALUE_COLUMN
from churn.features.base import (
    DAY_S,
    KEYS,
    YEAR,
    Context,
    Feature,
    date_ago,
    epoch_s,
    from_money_units,
    in_money_units,
    merge_on_keys,
    since,
)

FAMILY = "value"


def features(windows) -> list[Feature]:
    return [
        Feature(
            VALUE_COLUMN,
            family=FAMILY,
            driver_family="value_fixed",
            actionable=False,
            description="fees and purchases in the last 365 days",
            template="worth nothing a year|worth {value:.0f} a year",
        ),
    ]


def build(ctx: Context) -> ibis.Table:
    """Fees accrued over the part of each subscription inside the year, plus purchases."""
    parts = []
    if ctx.has("subscriptions"):
        parts.append(accrued_fees(ctx))
    if "transactions" in ctx.digests:
        tx = ctx.digest_before("transactions")
        tx = tx.filter(since(tx, YEAR))
        parts.append(tx.group_by(*KEYS).agg(_spend=from_money_units(tx.amount.sum())))
    joined = merge_on_keys(parts)
    total = sum(joined[c].fill_null(0.0) for c in ("_fees", "_spend") if c in joined.columns)
    return joined.select(*KEYS, revenue_12m=total)


def accrued_fees(ctx: Context) -> ibis.Table:
    """Fees over the year before the cutoff, of subscriptions started before it."""
    subs = ctx.before("subscriptions", "start_date")
    return fees_between(subs, date_ago(subs, YEAR), subs.cutoff)


def fees_between(subs: ibis.Table, start: ibis.Value, end: ibis.Value) -> ibis.Table:
    """`_fees` per (customer, cutoff): each subscription's monthly fee accrued over its days
    inside [start, end), both dates of the row's cutoff."""
    stop = ibis.ifelse(subs.end_date.notnull() & (subs.end_date < end), subs.end_date, end)
    first = ibis.greatest(subs.start_date, start)
    days = (epoch_s(stop) - epoch_s(first)) / DAY_S
    return subs.group_by(*KEYS).agg(
        _fees=from_money_units(
            in_money_units(subs.monthly_fee * ibis.greatest(days, 0.0) * 12.0 / YEAR).sum()
        )
    )


def revenue_between(tables, spans: ibis.Table) -> ibis.Table | None:
    """Fees accrued and purchases made in each cutoff's [_start, _end) (dates in `spans`, one
    row per cutoff), per customer, as `revenue_12m` counts them: the realized value a CLV
    forecast is checked against (a label, never a feature)."""
    parts = []
    if "subscriptions" in tables:
        subs = tables["subscriptions"]
        subs = subs.join(spans, subs.start_date < spans._end)
        parts.append(fees_between(subs, subs._start, subs._end))
    if "transactions" in tables:
        tx = tables["transactions"]
        lo, hi = spans._start.cast("timestamp"), spans._end.cast("timestamp")
        tx = tx.join(spans, [tx.ts >= lo, tx.ts < hi])
        parts.append(
            tx.group_by(*KEYS).agg(_spend=from_money_units(in_money_units(tx.amount).sum()))
        )
    if not parts:
        return None
    joined = merge_on_keys(parts)
    total = sum(joined[c].fill_null(0.0) for c in ("_fees", "_spend") if c in joined.columns)
    return joined.select(*KEYS, future_value=total)


class ValueTiers(BaseEstimator, TransformerMixin):
    """Platinum, Gold, Iron and Lead from quantiles of trailing value.

    Fitted on the training cutoffs and stored with them; scoring data is only transformed, so a
    tier means the same money every week.
    """

    def __init__(self, quantiles: tuple[float, float, float] = (0.3, 0.8, 0.95)):
        self.quantiles = quantiles

    def fit(self, X, y=None):
        values = np.asarray(X, dtype=float).ravel()
        values = values[~np.isnan(values)]
        if values.size == 0:
            raise ValueError("ValueTiers needs at least one non-missing value to fit")
        self.thresholds_ = np.quantile(values, self.quantiles)
        return self

    def transform(self, X) -> np.ndarray:
        values = np.asarray(X, dtype=float).ravel()
        idx = np.searchsorted(self.thresholds_, np.nan_to_num(values, nan=0.0), side="right")
        return np.asarray(TIERS, dtype=object)[idx].reshape(-1, 1)

    def to_dict(self) -> dict:
        return {
            "quantiles": list(self.quantiles),
            "thresholds": self.thresholds_.tolist(),
            "tiers": list(TIERS),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ValueTiers:
        tiers = cls(tuple(data["quantiles"]))
        tiers.thresholds_ = np.asarray(data["thresholds"], dtype=float)
        return tiers


def assign_tiers(frame: pd.DataFrame, tiers: ValueTiers) -> pd.Series:
    return pd.Series(tiers.transform(frame[VALUE_COLUMN]).ravel(), index=frame.index)
