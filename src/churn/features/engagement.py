"""Usage trend: the slow drift away shows first as fewer contacts than the customer used to make.

Drift is measured against the customer's own history over every channel they use (logins, visits
and calls), so a customer who only ever phones is not mistaken for one drifting away. Counts in one
channel (logins, visits) say which channels a customer uses: they belong to channel friction.
"""

from __future__ import annotations

import ibis

from churn.features.base import KEYS, Context, Feature, between, days_since, since, windowed
from churn.features.digest import SLOPE_MONTHS

FAMILY = "engagement"


def features(windows) -> list[Feature]:
    drift = dict(family=FAMILY, driver_family="drifting_away", actionable=True)
    channel = dict(family=FAMILY, driver_family="channel_friction", actionable=True)
    return [
        Feature(
            "usage_change_90d_pct",
            description="contacts (logins, visits, calls) in the last 90 days against the 90 "
            "before, in percent",
            template="usage changed {value:+.0f}% on the previous 90 days",
            zero_when_absent=False,
            **drift,
        ),
        Feature(
            "usage_slope_6m",
            description="slope of monthly contacts (logins, visits, calls) over 6 months",
            template="usage trend {value:+.1f} a month",
            **drift,
        ),
        Feature(
            "days_since_last_interaction",
            description="days since the last login, visit, call or email open",
            template="a contact today|no contact for 1 day|no contact for {value:.0f} days",
            zero_when_absent=False,
            **drift,
        ),
        *windowed(
            "logins_{w}d",
            windows,
            description="logins in the last {w} days",
            template="no logins in the last {w} days|only 1 login in the last {w} days|"
            "only {value:.0f} logins in the last {w} days",
            **channel,
        ),
        *windowed(
            "visits_{w}d",
            windows,
            description="visits in the last {w} days",
            template="no visits in the last {w} days|only 1 visit in the last {w} days|"
            "only {value:.0f} visits in the last {w} days",
            **channel,
        ),
    ]


def slope_weights(n: int) -> tuple[list[int], int]:
    """Least-squares slope of n equally spaced counts is a fixed weighted sum of the counts.

    Integer weights and one division keep the result exact on every engine.
    """
    weights = [2 * x - (n - 1) for x in range(n)]  # 2 * (x - mean)
    return weights, sum(w * w for w in weights) // 2  # 2 * sum((x - mean) ** 2)


def build(ctx: Context) -> ibis.Table:
    it = ctx.digest_before("interactions")
    usage = it.n_login + it.n_visit + it.n_call
    aggs = {"days_since_last_interaction": days_since(it, it.last_ts.max())}
    for w in ctx.windows:
        aggs[f"logins_{w}d"] = it.n_login.sum(where=since(it, w))
        aggs[f"visits_{w}d"] = it.n_visit.sum(where=since(it, w))
    aggs["_last90"] = usage.sum(where=since(it, 90))
    aggs["_prev90"] = usage.sum(where=between(it, 180, 90))
    weights, divisor = slope_weights(SLOPE_MONTHS)
    slope = ibis.literal(0, "int64")
    # month k counts [cutoff - 30(k+1), cutoff - 30k); oldest month first for the slope weights
    for k, weight in zip(range(SLOPE_MONTHS - 1, -1, -1), weights, strict=True):
        slope = slope + weight * usage.sum(where=between(it, 30 * (k + 1), 30 * k)).fill_null(0)
    aggs["usage_slope_6m"] = slope.cast("float64") / divisor
    out = it.group_by(*KEYS).agg(**aggs)
    prev = out._prev90.fill_null(0)
    change = (out._last90.fill_null(0) - prev) / prev.nullif(0) * 100.0
    return out.mutate(usage_change_90d_pct=change).drop("_last90", "_prev90")
