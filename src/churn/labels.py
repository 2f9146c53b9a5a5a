"""Labels from the window after the cutoff: churn, cross-sell and upsell.

The window is [cutoff + lead, cutoff + lead + horizon) in days; labels read nothing after it.
Snapshots whose window runs past the end of the data are unlabelled (null): scored, never trained.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import ibis

from churn.errors import ConfigError
from churn.features.base import Context, merge_on_customer
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


def attach_future_value(
    ctx: Context, spine_features: ibis.Table, months: int, data_end: dt.date
) -> ibis.Table:
    """`future_value`: revenue in [cutoff, cutoff + months), 0 for a customer who brought none
    (they left, or bought nothing); null while the window is still open, or without a source
    of revenue. The value backtest checks CLV forecasts against it."""
    end = value_window_end(ctx.cutoff, months)
    realized = revenue_between(ctx.tables, ctx.cutoff, end) if months > 0 else None
    if realized is None or end > data_end + dt.timedelta(days=1):
        return spine_features.mutate(**{FUTURE_VALUE: ibis.null("float64")})
    out = spine_features.left_join(realized, "customer_id").drop("customer_id_right")
    return out.mutate(**{FUTURE_VALUE: out[FUTURE_VALUE].fill_null(0.0)})


def contractual_churn(ctx: Context, win: LabelWindow) -> ibis.Table:
    """1 when no subscription is open at the window's end and one ended inside the window."""
    subs = ctx.tables["subscriptions"]
    subs = subs.filter(subs.start_date < ibis.date(win.end))  # nothing after the window
    ended_in = (
        subs.end_date.notnull()
        & (subs.end_date >= ibis.date(win.start))
        & (subs.end_date < ibis.date(win.end))
    )
    open_at_end = subs.end_date.isnull() | (subs.end_date >= ibis.date(win.end))
    g = subs.group_by("customer_id").agg(_ended=ended_in.max(), _open=open_at_end.max())
    return g.select("customer_id", churn=(g._ended & ~g._open).cast("int8"))


def behavioural_churn(ctx: Context, win: LabelWindow) -> ibis.Table:
    """1 when the customer buys and contacts nothing in the window (non-contractual businesses)."""
    lo, hi = ctx.ts_minus(-win.lead_days), ctx.ts_minus(-(win.lead_days + win.horizon_days))
    parts = [
        ctx.tables[t]
        .filter((ctx.tables[t].ts >= lo) & (ctx.tables[t].ts < hi))
        .select("customer_id")
        for t in ("transactions", "interactions")
        if ctx.has(t)
    ]
    active = ibis.union(*parts).distinct().mutate(_active=ibis.literal(1, "int8"))
    return active


def propensity_labels(ctx: Context, win: LabelWindow, plan_order: list[str]) -> ibis.Table:
    """cross_sell: a product not held at the cutoff starts; upsell: a higher plan replaces one."""
    subs = ctx.tables["subscriptions"]
    in_window = (subs.start_date >= ibis.date(win.start)) & (subs.start_date < ibis.date(win.end))
    held = subs.filter(
        (subs.start_date < ctx.date) & (subs.end_date.isnull() | (subs.end_date >= ctx.date))
    )
    held = held.select(customer_id="customer_id", held_product="product").distinct()
    new = subs.filter(in_window & subs.previous_subscription_id.isnull())
    new = new.left_join(
        held, [new.customer_id == held.customer_id, new["product"] == held.held_product]
    )
    cross = new.filter(new.held_product.isnull()).select("customer_id").distinct()
    rank = ibis.cases(*[(subs.plan == p, i) for i, p in enumerate(plan_order)], else_=-1)
    ranked = subs.mutate(_rank=rank)
    prev = ranked.select(prev_id="subscription_id", prev_rank="_rank")
    succ = ranked.filter(in_window & ranked.previous_subscription_id.notnull())
    succ = succ.join(prev, succ.previous_subscription_id == prev.prev_id)
    up = succ.filter(succ._rank > succ.prev_rank).select("customer_id").distinct()
    return merge_on_customer(
        [
            cross.mutate(cross_sell=ibis.literal(1, "int8")),
            up.mutate(upsell=ibis.literal(1, "int8")),
        ]
    )


def attach_labels(
    ctx: Context,
    spine_features: ibis.Table,
    win: LabelWindow,
    data_end: dt.date,
    definition: str = "contractual",
    plan_order=("basic", "standard", "premium"),
):
    """Add churn, cross_sell and upsell (0/1, or null when the window is not yet over)."""
    out = spine_features
    if not win.is_labelled(data_end):
        return out.mutate(**{t: ibis.null("int8") for t in TARGETS})
    if definition == "contractual":
        out = out.left_join(contractual_churn(ctx, win), "customer_id").drop("customer_id_right")
        out = out.mutate(churn=out.churn.fill_null(0))
    elif definition == "behavioural":
        out = out.left_join(behavioural_churn(ctx, win), "customer_id").drop("customer_id_right")
        out = out.mutate(churn=out._active.isnull().cast("int8")).drop("_active")
    else:
        raise ConfigError(
            f"labels.definition={definition!r} is unknown: contractual or behavioural"
        )
    if ctx.has("subscriptions"):
        props = propensity_labels(ctx, win, list(plan_order))
        out = out.left_join(props, "customer_id").drop("customer_id_right")
        out = out.mutate(cross_sell=out.cross_sell.fill_null(0), upsell=out.upsell.fill_null(0))
    else:
        out = out.mutate(cross_sell=ibis.null("int8"), upsell=ibis.null("int8"))
    return out
