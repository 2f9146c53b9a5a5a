"""Complaints: unresolved ones at the cutoff, slow resolutions, repeats and severity."""

from __future__ import annotations

import ibis

from churn.features.base import (
    DAY_S,
    KEYS,
    YEAR,
    Context,
    Feature,
    days_ago,
    days_since,
    epoch_s,
    windowed,
)

FAMILY = "complaints"


def features(windows) -> list[Feature]:
    kw = dict(family=FAMILY, driver_family="complaints", actionable=True)
    return [
        *windowed(
            "complaints_{w}d",
            windows,
            description="complaints opened in the last {w} days",
            template="no complaints in the last {w} days|1 complaint in the last {w} days|"
            "{value:.0f} complaints in the last {w} days",
            **kw,
        ),
        Feature(
            "complaints_unresolved",
            description="complaints still open at the cutoff",
            template=(
                "no unresolved complaints|1 unresolved complaint|{value:.0f} unresolved complaints"
            ),
            **kw,
        ),
        Feature(
            "complaint_resolution_days_median",
            description="median days to resolve the complaints resolved in the last 365 days",
            template="complaints resolved the same day|complaints take 1 day to resolve|"
            "complaints take {value:.0f} days to resolve",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "complaint_resolution_days_max",
            description="longest resolution among complaints resolved in the last 365 days",
            template="a complaint resolved the same day|a complaint took 1 day to resolve|"
            "a complaint took {value:.0f} days to resolve",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "complaints_repeat_365d",
            description="complaints in the last 365 days in a "
            "category the customer had complained about before",
            template="no repeat complaints|1 repeat complaint about the same problem|"
            "{value:.0f} repeat complaints about the same problem",
            **kw,
        ),
        Feature(
            "days_since_last_complaint",
            description="days since the last complaint",
            template="complained today|complained 1 day ago|complained {value:.0f} days ago",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "complaint_max_severity_365d",
            description="highest severity in the last 365 days",
            template="no complaint this year|a severity-{value:.0f} complaint this year",
            **kw,
        ),
    ]


def build(ctx: Context) -> ibis.Table:
    cp = ctx.before("complaints", "opened_at")
    # resolutions on or after the cutoff are unknown at the cutoff: such a complaint is still open
    resolved = cp.resolved_at.notnull() & (cp.resolved_at < cp._cut_ts)
    resolve_days = (epoch_s(cp.resolved_at) - epoch_s(cp.opened_at)) / DAY_S
    recent_resolution = resolved & (cp.resolved_at >= days_ago(cp, YEAR))
    earlier_same = ibis.window(
        group_by=[cp.customer_id, cp.cutoff, cp.category], order_by=cp.opened_at
    )
    cp = cp.mutate(
        _resolved=resolved,
        _resolve_days=ibis.ifelse(recent_resolution, resolve_days, ibis.null("float64")),
        _is_repeat=(ibis.row_number().over(earlier_same) > 0),
    )
    last365 = cp.opened_at >= days_ago(cp, YEAR)
    aggs = {f"complaints_{w}d": (cp.opened_at >= days_ago(cp, w)).sum() for w in ctx.windows}
    aggs.update(
        complaints_unresolved=(~cp._resolved).sum(),
        complaint_resolution_days_median=cp._resolve_days.median(),
        complaint_resolution_days_max=cp._resolve_days.max(),
        complaints_repeat_365d=(cp._is_repeat & last365).sum(),
        days_since_last_complaint=days_since(cp, cp.opened_at.max()),
        complaint_max_severity_365d=cp.severity.max(where=last365),
    )
    return cp.group_by(*KEYS).agg(**aggs)
