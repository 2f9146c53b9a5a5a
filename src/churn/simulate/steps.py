"""One month of the demo world, step by step. Each step is vectorised over customers."""

from __future__ import annotations

import numpy as np

from churn.simulate import catalog as C
from churn.simulate.book import count_open, count_recent
from churn.simulate.events import US_PER_DAY, draw_days
from churn.simulate.retention import (
    CALLED,
    call_effects,
    log_contacts,
    pick_contacts,
    response_group,
    treated_hazard,
)
from churn.simulate.tables import HAZARD_TABLE
from churn.simulate.world import N_PRODUCTS, MonthWindow, World

# Order matters: it is the column order of the driver matrix and of HazardConfig's coefficients.
DRIVERS = (
    "unresolved_complaints",
    "repeat_complaints",
    "usage_decline",
    "phone_only",
    "single_channel",
    "price_increase",
    "early_life",
    "products",
    "loyalty_member",
    "loyalty_redemption",
    "referrals",
)


def open_products(w: World, who: np.ndarray) -> None:
    """Give new customers their first products on their signup day."""
    rng, seg = w.rng, w.cust.segment[who]
    k = 1 + rng.binomial(2 + seg, 0.25 + 0.1 * seg)
    rank = np.argsort(np.argsort(rng.random((who.size, N_PRODUCTS)), axis=1), axis=1)
    rows, products = np.nonzero(rank < k[:, None])
    cust = who[rows]
    plan = rng.choice(3, rows.size, p=[0.5, 0.35, 0.15]).astype(np.int8)
    fee = C.BASE_FEE[products] * C.PLAN_FEE_MULT[plan] * (1 + 0.8 * w.cust.segment[cust])
    fee = np.round(fee * rng.uniform(0.95, 1.05, rows.size), 2)
    idx = w.subs.append(
        customer=cust,
        product=products,
        plan=plan,
        fee=fee,
        start=w.cust.signup[cust],
        end=np.full(rows.size, C.NO_DAY),
        prev=np.full(rows.size, -1),
        reason=np.zeros(rows.size),
    )
    w.held[cust, products] = idx


def step_signups(w: World, m: MonthWindow) -> None:
    """Open products for this month's newcomers and link referred ones to their referrer."""
    signup = w.cust.signup
    lo = -(2**31) if m.index == 0 else m.start
    new = np.flatnonzero((signup >= lo) & (signup < m.end))
    open_products(w, new)
    referred = new[(w.cust.acquisition[new] == 4) & (signup[new] >= m.start)]
    pool = np.flatnonzero((signup < m.start) & (w.churn_day >= m.start))
    if referred.size == 0 or pool.size == 0:
        return
    weight = w.engagement[pool] / w.engagement[pool].sum()
    referrer = w.rng.choice(pool, referred.size, p=weight)
    np.add.at(w.referrals, referrer, 1)
    ts = signup[referred].astype(np.int64) * US_PER_DAY + w.rng.integers(
        0, US_PER_DAY, referred.size
    )
    w.log.add("referrals", referrer=referrer, referred=referred, ts=ts)


def driver_matrix(w: World, who: np.ndarray, day: int) -> np.ndarray:
    """The planted drivers' values for customers at a month start, as the simulator sees them."""
    hist = w.engagement_hist
    held = w.held[who] >= 0
    x = np.column_stack(
        [
            np.minimum(count_open(w.complaints, w.n, day)[who], 3),
            np.minimum(count_recent(w.complaints, w.n, day, 90, "repeat")[who], 2),
            np.clip(
                np.log(w.cust.level[who] / hist[0, who]), 0.0, 3.0
            ),  # drift from own usual usage
            w.cust.phone_only[who],
            w.cust.single_channel[who],
            w.since(w.last_price_rise[who], day, 90),
            (day - w.cust.signup[who]) < 180,
            held.sum(axis=1) - 1,
            w.loyalty_join[who] < day,
            w.since(w.last_redeem[who], day, 90),
            np.minimum(w.referrals[who], 3),
        ]
    )
    return x.astype(np.float64)


def step_hazard(w: World, m: MonthWindow) -> None:
    """Fix each at-risk customer's hazard for the month and draw who churns, and when."""
    who = np.flatnonzero((w.cust.signup < m.start) & (w.churn_day == C.NO_DAY))
    x = driver_matrix(w, who, m.start)
    coef = np.array([getattr(w.hazard, name) for name in DRIVERS])
    logit = w.hazard.base_logit + x @ coef
    group = response_group(w, who, x, m.start)
    untreated = treated_hazard(logit, 0.0, w.hazard.move_monthly)
    treated = treated_hazard(logit, call_effects(w, group), w.hazard.move_monthly)
    contact = pick_contacts(w, m, who, logit)
    log_contacts(w, m, who, contact)
    p = np.where(contact == CALLED, treated, untreated)
    w.log.add(
        HAZARD_TABLE,
        customer=who,
        month=np.full(who.size, m.start),
        hazard=p,
        untreated=untreated,
        treated=treated,
        contact=contact,
        group=group,
    )
    w.driver_stats.add(x)
    churn = who[w.rng.random(who.size) < p]
    w.churn_day[churn] = draw_days(w.rng, np.full(churn.size, m.start), np.full(churn.size, m.end))


def present_window(w: World, m: MonthWindow):
    """Customers present in the month and the [lo, hi) days each was a customer."""
    who = np.flatnonzero(
        (w.cust.signup < m.end) & (w.churn_day > np.maximum(w.cust.signup, m.start))
    )
    who = who[w.churn_day[who] > m.start]
    lo = np.maximum(w.cust.signup[who], m.start)
    hi = np.minimum(w.churn_day[who], m.end)
    keep = hi > lo
    return who[keep], lo[keep], hi[keep], (hi[keep] - lo[keep]) / m.days
