"""Reward bonds (loyalty membership, points, redemptions) and social bonds (referrals)."""

from __future__ import annotations

import ibis

from churn.features.base import (
    KEYS,
    QUARTER,
    YEAR,
    Context,
    Feature,
    days_ago,
    from_money_units,
    in_money_units,
    merge_on_keys,
)

FAMILY = "loyalty"


def features(windows) -> list[Feature]:
    reward = dict(family=FAMILY, driver_family="reward_bonds", actionable=True)
    return [
        Feature(
            "loyalty_member",
            description="1 if in the loyalty programme",
            template="not in the loyalty programme|in the loyalty programme",
            **reward,
        ),
        Feature(
            "points_balance",
            description="loyalty points earned minus redeemed",
            template=(
                "no unused loyalty points|1 unused loyalty point|{value:.0f} unused loyalty points"
            ),
            **reward,
        ),
        Feature(
            "redemption_rate_365d",
            description="points redeemed over points earned in the last 365 days",
            template="redeemed {value:.0%} of points earned",
            zero_when_absent=False,
            **reward,
        ),
        Feature(
            "redeemed_90d",
            description="points redeemed in the last 90 days",
            template=(
                "no reward redeemed in 90 days|redeemed 1 point in 90 days|"
                "redeemed {value:.0f} points in 90 days"
            ),
            **reward,
        ),
        Feature(
            "referrals_made",
            family=FAMILY,
            driver_family="social_bonds",
            actionable=True,
            description="customers referred so far",
            template=(
                "has referred no one|has referred 1 customer|has referred {value:.0f} customers"
            ),
        ),
    ]


def build(ctx: Context) -> ibis.Table:
    parts = []
    if ctx.has("loyalty_members"):
        m = ctx.before("loyalty_members", "joined_at")
        parts.append(m.select(*KEYS).distinct().mutate(loyalty_member=ibis.literal(1, "int8")))
    if ctx.has("loyalty_points"):
        p = ctx.before("loyalty_points", "ts")
        earn, redeem = p.kind == "earn", p.kind == "redeem"
        year, quarter = p.ts >= days_ago(p, YEAR), p.ts >= days_ago(p, QUARTER)
        points = in_money_units(p.points)  # summed exactly, in any order (see MONEY_UNITS)

        def total(where: ibis.Value) -> ibis.Value:
            return from_money_units(points.sum(where=where))

        g = p.group_by(*KEYS).agg(
            points_balance=total(earn) - total(redeem).fill_null(0),
            _earned=total(earn & year),
            _redeemed=total(redeem & year),
            redeemed_90d=total(redeem & quarter),
        )
        parts.append(
            g.mutate(redemption_rate_365d=g._redeemed.fill_null(0) / g._earned.nullif(0)).drop(
                "_earned", "_redeemed"
            )
        )
    if ctx.has("referrals"):
        r = ctx.before("referrals", "ts")
        parts.append(
            r.group_by(customer_id=r.referrer_id, cutoff=r.cutoff).agg(referrals_made=r.count())
        )
    return merge_on_keys(parts)
