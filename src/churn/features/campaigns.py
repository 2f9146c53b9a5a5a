"""Campaigns: offers received and answered. Responsive customers have a reward bond to build on."""

from __future__ import annotations

import ibis

from churn.features.base import KEYS, QUARTER, YEAR, Context, Feature, days_ago, days_since

FAMILY = "campaigns"


def features(windows) -> list[Feature]:
    kw = dict(family=FAMILY, driver_family="reward_bonds", actionable=True)
    return [
        Feature(
            "offers_90d",
            description="offers sent in the last 90 days",
            template="no offers in 90 days|1 offer in 90 days|{value:.0f} offers in 90 days",
            **kw,
        ),
        Feature(
            "offers_365d",
            description="offers sent in the last 365 days",
            template="no offers this year|1 offer this year|{value:.0f} offers this year",
            **kw,
        ),
        Feature(
            "offer_response_rate_365d",
            description="share of last year's offers answered before the cutoff",
            template="answered {value:.0%} of offers",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "days_since_last_offer",
            description="days since the last offer",
            template="an offer today|no offer for 1 day|no offer for {value:.0f} days",
            zero_when_absent=False,
            **kw,
        ),
    ]


def build(ctx: Context) -> ibis.Table:
    cp = ctx.before("campaigns", "sent_at")
    if "treatment_group" in cp.columns:  # a held-out customer was never contacted
        cp = cp.filter(cp.treatment_group.isnull() | (cp.treatment_group != "control"))
    year = cp.sent_at >= days_ago(cp, YEAR)
    answered = cp.responded_at.notnull() & (cp.responded_at < cp._cut_ts)
    g = cp.group_by(*KEYS).agg(
        offers_90d=(cp.sent_at >= days_ago(cp, QUARTER)).sum(),
        offers_365d=year.sum(),
        _answered=(year & answered).sum(),
        days_since_last_offer=days_since(cp, cp.sent_at.max()),
    )
    rate = g._answered / g.offers_365d.nullif(0)
    return g.mutate(offer_response_rate_365d=rate).drop("_answered")
