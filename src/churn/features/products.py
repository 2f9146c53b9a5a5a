"""Product holding: structural bonds (products, bundles, the term left on a contract) and price
(fees and their rises)."""

from __future__ import annotations

import ibis

from churn.features.base import (
    DAY_S,
    KEYS,
    QUARTER,
    Context,
    Feature,
    buildable,
    date_ago,
    epoch_s,
    from_money_units,
    in_money_units,
    windowed,
)

FAMILY = "products"
PRICE_WINDOW = QUARTER


def features(windows) -> list[Feature]:
    bond = dict(family=FAMILY, driver_family="structural_bonds", actionable=True)
    price = dict(family=FAMILY, driver_family="price", actionable=True)
    return [
        Feature(
            "active_products",
            description="products held at the cutoff",
            template="holds no product|holds only 1 product|holds only {value:.0f} products",
            **bond,
        ),
        Feature(
            "bundle",
            description="1 when two or more products are held",
            template="no bundle of products|a bundle of products",
            **bond,
        ),
        Feature(
            "premium_plans",
            description="held products on the premium plan",
            template="no premium plan|1 premium plan|{value:.0f} premium plans",
            **bond,
        ),
        Feature(
            "monthly_fee",
            description="total monthly fee at the cutoff",
            template="pays nothing a month|pays {value:.0f} a month",
            **price,
        ),
        Feature(
            "fee_change_90d",
            description="monthly fee now minus 90 days ago",
            template=(
                "monthly fee unchanged in 90 days|monthly fee changed by {value:+.0f} in 90 days"
            ),
            **price,
        ),
        Feature(
            "price_increase_90d",
            description="1 if a price rise took effect in the last 90 days",
            template="no price increase in the last 90 days|a price increase in the last 90 days",
            **price,
        ),
        Feature(
            "contract_days_left",
            description="days until the earliest commitment end among the open subscriptions "
            "(null: no running commitment)",
            template="the contract's term ends today|the contract's term ends tomorrow|"
            "the contract's term ends in {value:.0f} days",
            zero_when_absent=False,
            needs=("subscriptions.commitment_end",),
            **bond,
        ),
        *windowed(
            "cancellations_{w}d",
            windows,
            description="products cancelled in the last {w} days",
            template=(
                "cancelled no product in the last {w} days|"
                "cancelled 1 product in the last {w} days|"
                "cancelled {value:.0f} products in the last {w} days"
            ),
            **bond,
        ),
    ]


CONTRACT_DAYS_LEFT = next(f for f in features(()) if f.name == "contract_days_left")


def active_at(subs: ibis.Table, day) -> ibis.Value:
    """Open on `day`: started before it and not ended before it."""
    return (subs.start_date < day) & (subs.end_date.isnull() | (subs.end_date >= day))


def build(ctx: Context) -> ibis.Table:
    subs = ctx.before("subscriptions", "start_date")
    # what happened on or after the cutoff is unknown: an end from then on reads as still open
    subs = subs.mutate(
        end_date=ibis.ifelse(subs.end_date < subs.cutoff, subs.end_date, ibis.null("date"))
    )
    # a subscription with a successor started before the cutoff was replaced, not cancelled
    successors = (
        subs.filter(subs.previous_subscription_id.notnull())
        .select(_prev_id=subs.previous_subscription_id, _succ_cutoff=subs.cutoff)
        .distinct()
    )
    subs = subs.left_join(
        successors,
        [subs.subscription_id == successors._prev_id, subs.cutoff == successors._succ_cutoff],
    )
    cancelled = subs.end_date.notnull() & subs._prev_id.isnull()
    then = date_ago(subs, PRICE_WINDOW)
    rise = (subs.change_reason == "price_change") & (subs.start_date >= then)
    now_on, then_on = active_at(subs, subs.cutoff), active_at(subs, then)
    fee = in_money_units(subs.monthly_fee)  # exact in any order: see MONEY_UNITS
    aggs = {
        "active_products": now_on.sum(),
        "premium_plans": (now_on & (subs.plan == "premium")).sum(),
        "monthly_fee": from_money_units(fee.sum(where=now_on)),
        "_fee_then": from_money_units(fee.sum(where=then_on)),
        "price_increase_90d": rise.max().cast("int8"),
    }
    if buildable(CONTRACT_DAYS_LEFT, ctx.tables):  # the end of a term runs past the cutoff
        committed = now_on & (subs.commitment_end >= subs.cutoff)
        days_left = (epoch_s(subs.commitment_end) - subs._cut_s) / DAY_S
        aggs["contract_days_left"] = days_left.min(where=committed)
    for w in ctx.windows:
        aggs[f"cancellations_{w}d"] = (cancelled & (subs.end_date >= date_ago(subs, w))).sum()
    g = subs.group_by(*KEYS).agg(**aggs)
    return g.mutate(
        monthly_fee=g.monthly_fee.fill_null(0.0),
        bundle=(g.active_products >= 2).cast("int8"),
        fee_change_90d=g.monthly_fee.fill_null(0.0) - g._fee_then.fill_null(0.0),
    ).drop("_fee_then")
