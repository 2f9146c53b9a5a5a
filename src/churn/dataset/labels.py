"""Labels from the window after the cutoff: churn, cross-sell and upsell.

The window is [cutoff + lead, cutoff + lead + horizon) in days; labels read nothing after it.
Snapshots whose window runs past the end of the data are unlabelled (null): scored, never trained.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from churn.errors import ConfigError
from churn.features.base import KEYS, Context, join_on_keys, merge_on_keys
from churn.features.value import revenue_between

TARGETS = ("churn", "cross_sell", "upsell")
FUTURE_VALUE = "future_value"  # realized revenue over labels.value_horizon_months: CLV's truth


@dataclass(frozen=True)
class LabelWindow:
    cutoff: dt.date
    lead_days: int = 0
    horizon_days: int = 30

    @property
    def start(self) -> dt.date:
        return self.cutoff + dt.timedelta(days=self.lead_days)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.horizon_days)

    def is_labelled(self, data_end: dt.date) -> bool:
        """The whole window lies on or before the last day of data."""
        return self.end <= data_end + dt.timedelta(days=1)


def value_window_end(cutoff: dt.date, months: int) -> dt.date:
    """The end of the value window: the same day `months` calendar months after the cutoff."""
    month = cutoff.month - 1 + months
    year, month = cutoff.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(cutoff.day, calendar.monthrange(year, month)[1]))


def spans_table(spans: dict[dt.date, tuple[dt.date, dt.date]]) -> ibis.Table:
    """One row per cutoff with its label or value window [_start, _end)."""
    frame = pd.DataFrame(
        [(c, lo, hi) for c, (lo, hi) in spans.items()], columns=["cutoff", "_start", "_end"]
    )
    return ibis.memtable(frame, schema={"cutoff": "date", "_start": "date", "_end": "date"})


def attach_future_value(
    ctx: Context, spine_features: ibis.Table, months: int, data_end: dt.date
) -> ibis.Table:
    """`future_value`: revenue in [cutoff, cutoff + months), 0 for a customer who brought none
    (they left, or bought nothing); null while the window is still open, or without a source
    of revenue. The value backtest checks CLV forecasts against it."""
    closed = {
        c: (c, value_window_end(c, months))
        for c in ctx.cutoffs
        if months > 0 and value_window_end(c, months) <= data_end + dt.timedelta(days=1)
    }
    realized = revenue_between(ctx.tables, spans_table(closed)) if closed else None
    if realized is None:
        return spine_features.mutate(**{FUTURE_VALUE: ibis.null("float64")})
    out = join_on_keys(spine_features, realized)
    known = out.cutoff.isin(list(closed))
    return out.mutate(
        **{FUTURE_VALUE: ibis.ifelse(known, out[FUTURE_VALUE].fill_null(0.0), ibis.null("float64"))}
    )


def contractual_churn(ctx: Context, spans: ibis.Table) -> ibis.Table:
    """1 when no subscription is open at the window's end and one ended inside the window."""
    subs = ctx.tables["subscriptions"]
    subs = subs.join(spans, subs.start_date < spans._end)  # nothing after the window
    ended_in = (
        subs.end_date.notnull() & (subs.end_date >= subs._start) & (subs.end_date < subs._end)
    )
    open_at_end = subs.end_date.isnull() | (subs.end_date >= subs._end)
    g = subs.group_by(*KEYS).agg(_ended=ended_in.max(), _open=open_at_end.max())
    return g.select(*KEYS, churn=(g._ended & ~g._open).cast("int8"))


def behavioural_churn(ctx: Context, spans: ibis.Table) -> ibis.Table:
    """1 when the customer buys and contacts nothing in the window (non-contractual businesses)."""
    lo, hi = spans._start.cast("timestamp"), spans._end.cast("timestamp")
    parts = []
    for name in ("transactions", "interactions"):
        if ctx.has(name):
            t = ctx.tables[name]
            parts.append(t.join(spans, [t.ts >= lo, t.ts < hi]).select(*KEYS))
    return ibis.union(*parts).distinct().mutate(_active=ibis.literal(1, "int8"))


def propensity_labels(ctx: Context, spans: ibis.Table, plan_order: list[str]) -> ibis.Table:
    """cross_sell: a product not held at the cutoff starts; upsell: a higher plan replaces one."""
    subs = ctx.tables["subscriptions"]
    rank = ibis.cases(*[(subs.plan == p, i) for i, p in enumerate(plan_order)], else_=-1)
    ranked = subs.mutate(_rank=rank)
    prev = ranked.select(prev_id="subscription_id", prev_rank="_rank")
    s = ranked.join(spans, ranked.start_date < spans._end)
    in_window = s.start_date >= s._start
    held = s.filter(
        (s.start_date < s.cutoff) & (s.end_date.isnull() | (s.end_date >= s.cutoff))
    ).select(_held_id="customer_id", _held_cutoff="cutoff", _held_product="product")
    held = held.distinct()
    new = s.filter(in_window & s.previous_subscription_id.isnull())
    new = new.left_join(
        held,
        [
            new.customer_id == held._held_id,
            new.cutoff == held._held_cutoff,
            new["product"] == held._held_product,
        ],
    )
    cross = new.filter(new._held_product.isnull()).select(*KEYS).distinct()
    succ = s.filter(in_window & s.previous_subscription_id.notnull())
    succ = succ.join(prev, succ.previous_subscription_id == prev.prev_id)
    up = succ.filter(succ._rank > succ.prev_rank).select(*KEYS).distinct()
    return merge_on_keys(
        [
            cross.mutate(cross_sell=ibis.literal(1, "int8")),
            up.mutate(upsell=ibis.literal(1, "int8")),
        ]
    )


def attach_labels(
    ctx: Context,
    spine_features: ibis.Table,
    lead_days: int,
    horizon_days: int,
    data_end: dt.date,
    definition: str = "contractual",
    plan_order=("basic", "standard", "premium"),
):
    """Add churn, cross_sell and upsell (0/1 on cutoffs whose window is over, else null)."""
    if definition not in ("contractual", "behavioural"):
        raise ConfigError(
            f"labels.definition={definition!r} is unknown: contractual or behavioural"
        )
    windows = [LabelWindow(c, lead_days, horizon_days) for c in ctx.cutoffs]
    closed = {w.cutoff: (w.start, w.end) for w in windows if w.is_labelled(data_end)}
    out = spine_features
    if not closed:
        return out.mutate(**{t: ibis.null("int8") for t in TARGETS})
    spans = spans_table(closed)
    labelled = out.cutoff.isin(list(closed))

    def known(value: ibis.Value) -> ibis.Value:
        return ibis.ifelse(labelled, value, ibis.null("int8"))

    if definition == "contractual":
        out = join_on_keys(out, contractual_churn(ctx, spans))
        out = out.mutate(churn=known(out.churn.fill_null(0)))
    else:
        out = join_on_keys(out, behavioural_churn(ctx, spans))
        out = out.mutate(churn=known(out._active.isnull().cast("int8"))).drop("_active")
    if ctx.has("subscriptions"):
        props = propensity_labels(ctx, spans, list(plan_order))
        out = join_on_keys(out, props)
        out = out.mutate(
            cross_sell=known(out.cross_sell.fill_null(0)), upsell=known(out.upsell.fill_null(0))
        )
    else:
        out = out.mutate(cross_sell=ibis.null("int8"), upsell=ibis.null("int8"))
    return out
