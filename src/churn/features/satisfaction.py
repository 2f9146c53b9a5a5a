"""Satisfaction, the precondition of loyalty: what the customer said in surveys before the cutoff.

Scores are put on one 0-1 scale (NPS 0-10 as score / 10, CSAT 1-5 as (score - 1) / 4). A
detractor gave NPS 0-6 or CSAT 1-2, a promoter NPS 9-10 or CSAT 5. A survey with no score was
sent and never answered: it counts towards the response rate only. Satisfaction after the
latest complaint is the measure of service recovery: the latest after-complaint survey.
"""

from __future__ import annotations

import ibis

from churn.features.base import KEYS, QUARTER, YEAR, Context, Feature, days_ago, days_since
from churn.vocabulary import SURVEY_SCALES

HALF_YEAR = 2 * QUARTER

FAMILY = "satisfaction"


def features(windows) -> list[Feature]:
    kw = dict(family=FAMILY, driver_family="dissatisfaction", actionable=True)
    return [
        Feature(
            "satisfaction_latest",
            description="the latest survey answer, on a 0-1 scale (NPS / 10, CSAT (score-1) / 4)",
            template="rated us {value:.0%} in the latest survey",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "detractor_latest",
            description="the latest answer was a detractor's (NPS 0-6, CSAT 1-2)",
            template="not a detractor in the latest survey|a detractor in the latest survey",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "promoter_latest",
            description="the latest answer was a promoter's (NPS 9-10, CSAT 5)",
            template="not a promoter in the latest survey|a promoter in the latest survey",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "satisfaction_change_6m",
            description="mean answer in the last 180 days minus the mean in the 180 days before",
            template="satisfaction unchanged over 180 days|"
            "satisfaction changed by {value:+.0%} over 180 days",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "days_since_last_survey",
            description="days since the customer last answered a survey",
            template="answered a survey today|answered a survey 1 day ago|"
            "answered a survey {value:.0f} days ago",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "survey_response_rate_365d",
            description="share of the surveys sent in the last 365 days that were answered",
            template="answered none of our surveys this year|"
            "answered {value:.0%} of our surveys this year",
            zero_when_absent=False,
            **kw,
        ),
        Feature(
            "satisfaction_after_complaint",
            description="the latest after-complaint survey answer in the last 365 days, 0-1",
            template="rated the complaint's handling {value:.0%}",
            zero_when_absent=False,
            **kw,
        ),
    ]


def normalised(sv: ibis.Table) -> ibis.Value:
    """Every answer on a 0-1 scale (from its scale's lowest to highest score); null when not
    answered."""
    return ibis.cases(
        *[
            (sv.scale == scale, (sv.score - low) / (high - low))
            for scale, (low, high) in SURVEY_SCALES.items()
        ],
        else_=ibis.null("float64"),
    )


def build(ctx: Context) -> ibis.Table:
    sv = ctx.before("surveys", "ts")
    detractor = ((sv.scale == "nps") & (sv.score <= 6)) | ((sv.scale == "csat") & (sv.score <= 2))
    promoter = ((sv.scale == "nps") & (sv.score >= 9)) | ((sv.scale == "csat") & (sv.score >= 5))
    sv = sv.mutate(
        _level=normalised(sv),
        _detractor=detractor.cast("float64"),
        _promoter=promoter.cast("float64"),
    )
    answered = sv.score.notnull()  # the latest answer wins; an unanswered survey never does
    recent = sv.ts >= days_ago(sv, HALF_YEAR)
    before_recent = (sv.ts >= days_ago(sv, 2 * HALF_YEAR)) & ~recent
    year = sv.ts >= days_ago(sv, YEAR)
    after_complaint = answered & year & (sv.type == "after_complaint")
    sent = year.cast("int64").sum()
    aggs = dict(
        satisfaction_latest=sv._level.argmax(sv.ts, where=answered),
        detractor_latest=sv._detractor.argmax(sv.ts, where=answered),
        promoter_latest=sv._promoter.argmax(sv.ts, where=answered),
        satisfaction_change_6m=sv._level.mean(where=recent & answered)
        - sv._level.mean(where=before_recent & answered),
        days_since_last_survey=days_since(sv, sv.ts.max(where=answered)),
        survey_response_rate_365d=ibis.ifelse(
            sent > 0,
            (year & answered).cast("int64").sum().cast("float64") / sent.cast("float64"),
            ibis.null("float64"),
        ),
        satisfaction_after_complaint=sv._level.argmax(sv.ts, where=after_complaint),
    )
    return sv.group_by(*KEYS).agg(**aggs)
