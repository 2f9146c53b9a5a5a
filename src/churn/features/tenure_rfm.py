"""Tenure, lifecycle and RFM(T): how long, how recently, how often and how much."""

from __future__ import annotations

import ibis

from churn.features.base import (
    KEYS,
    YEAR,
    Context,
    Feature,
    buildable,
    days_since,
    from_money_units,
    join_on_keys,
    since,
    windowed,
)

FAMILY = "tenure_rfm"
EARLY_LIFE_DAYS = 180
BUYS = ("transactions",)  # what the RFM(T) features are built from


def features(windows) -> list[Feature]:
    fixed = dict(family=FAMILY, actionable=False)
    bought = dict(family=FAMILY, needs=BUYS)
    return [
        Feature(
            "tenure_days",
            driver_family="early_life",
            description="days since signup",
            template="a customer since today|1 day as a customer|{value:.0f} days as a customer",
            zero_when_absent=False,
            **fixed,
        ),
        Feature(
            "early_life",
            driver_family="early_life",
            description=f"1 in the first {EARLY_LIFE_DAYS} days of the relationship",
            template="past the first 6 months as a customer|in the first 6 months as a customer",
            **fixed,
        ),
        Feature(
            "signup_year",
            driver_family="value_fixed",
            description="signup cohort year",
            template="signed up in {value:.0f}",
            zero_when_absent=False,
            **fixed,
        ),
        Feature(
            "signup_quarter",
            driver_family="value_fixed",
            description="signup cohort quarter",
            template="signed up in quarter {value:.0f}",
            zero_when_absent=False,
            **fixed,
        ),
        Feature(
            "age_years",
            driver_family="value_fixed",
            description="age at the cutoff",
            template="aged {value:.0f}",
            zero_when_absent=False,
            needs=("customers.birth_year",),
            **fixed,
        ),
        Feature(
            "segment",
            driver_family="value_fixed",
            description="consumer or business",
            template="{value} customer",
            kind="categorical",
            zero_when_absent=False,
            needs=("customers.segment",),
            **fixed,
        ),
        Feature(
            "region",
            driver_family="value_fixed",
            description="home region",
            template="lives in the {value} region",
            kind="categorical",
            zero_when_absent=False,
            needs=("customers.region",),
            **fixed,
        ),
        Feature(
            "acquisition_channel",
            driver_family="value_fixed",
            description="channel the customer came through",
            template="acquired via {value}",
            kind="categorical",
            zero_when_absent=False,
            needs=("customers.acquisition_channel",),
            **fixed,
        ),
        Feature(
            "recency_days",
            driver_family="drifting_away",
            actionable=True,
            description="days since the last purchase",
            template="bought today|no purchase for 1 day|no purchase for {value:.0f} days",
            zero_when_absent=False,
            **bought,
        ),
        Feature(
            "purchase_days",
            driver_family="drifting_away",
            actionable=True,
            description="days with a purchase, over the whole relationship (RFM(T) frequency + 1)",
            template="never bought|bought on 1 day so far|bought on {value:.0f} days so far",
            **bought,
        ),
        Feature(
            "first_purchase_days",
            driver_family="early_life",
            actionable=False,
            description="days since the first purchase (RFM(T) T)",
            template=(
                "first purchase today|first purchase 1 day ago|first purchase {value:.0f} days ago"
            ),
            zero_when_absent=False,
            **bought,
        ),
        *windowed(
            "frequency_{w}d",
            windows,
            driver_family="drifting_away",
            actionable=True,
            description="purchases in the last {w} days",
            template="no purchases in the last {w} days|only 1 purchase in the last {w} days|"
            "only {value:.0f} purchases in the last {w} days",
            **bought,
        ),
        *windowed(
            "monetary_{w}d",
            windows,
            driver_family="value_fixed",
            actionable=False,
            description="spend in the last {w} days",
            template="spent nothing in the last {w} days|spent {value:.0f} in the last {w} days",
            **bought,
        ),
        Feature(
            "avg_basket_365d",
            driver_family="value_fixed",
            actionable=False,
            description="average purchase amount in the last 365 days",
            template="no purchase yet|average purchase of {value:.0f}",
            zero_when_absent=False,
            **bought,
        ),
        Feature(
            "frequency_per_month",
            driver_family="drifting_away",
            actionable=True,
            description="purchases per month of tenure over the last 365 days",
            template="no purchases a month|{value:.1f} purchases a month",
            zero_when_absent=False,
            **bought,
        ),
    ]


def build(ctx: Context) -> ibis.Table:
    c = ctx.at_cutoffs("customers")
    tenure = days_since(c, c.signup_date)
    attributes = {
        "age_years": lambda: (c.cutoff.year() - c.birth_year).cast("float64"),
        "segment": lambda: c.segment,
        "region": lambda: c.region,
        "acquisition_channel": lambda: c.acquisition_channel,
    }
    present = {f.name for f in features(ctx.windows) if buildable(f, ctx.tables)}
    out = c.select(
        *KEYS,
        tenure_days=tenure,
        early_life=(tenure < EARLY_LIFE_DAYS).cast("int8"),
        signup_year=c.signup_date.year(),
        signup_quarter=c.signup_date.quarter(),
        **{name: make() for name, make in attributes.items() if name in present},
    )
    if "transactions" not in ctx.digests:
        return out
    tx = ctx.digest_before("transactions")  # all history: recency is not capped by a window
    aggs = {
        "recency_days": days_since(tx, tx.last_ts.max()),
        "purchase_days": tx.n_days.sum(),
        "first_purchase_days": days_since(tx, tx.first_ts.min()),
    }
    for w in ctx.windows:
        aggs[f"frequency_{w}d"] = tx.n.sum(where=since(tx, w))
        aggs[f"monetary_{w}d"] = from_money_units(tx.amount.sum(where=since(tx, w)))
    year = since(tx, YEAR)
    aggs["_purchases_year"] = tx.n.sum(where=year)  # whatever features.windows says
    spend = from_money_units(tx.amount.sum(where=year))
    aggs["avg_basket_365d"] = spend / aggs["_purchases_year"].nullif(0)
    rfm = tx.group_by(*KEYS).agg(**aggs)
    out = join_on_keys(out, rfm)
    months = ibis.greatest(ibis.least(out.tenure_days, float(YEAR)) / 30.44, 1.0)
    per_month = out._purchases_year.fill_null(0) / months
    return out.mutate(frequency_per_month=per_month).drop("_purchases_year")
