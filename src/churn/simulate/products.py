"""Product holding over time: cross-sell, upsell, price rises, cancellations and churn."""

from __future__ import annotations

import numpy as np

from churn.simulate import catalog as C
from churn.simulate.events import choose_nth_true, draw_days, sigmoid
from churn.simulate.world import N_PRODUCTS, MonthWindow, World

PRICE_RISE_MONTHLY = 0.03
CANCEL_MONTHLY = 0.012


def propensity_logits(w: World, who: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Planted cross-sell and upsell drivers (ground_truth.json lists them)."""
    log_e = np.log(w.engagement[who])
    n_products = (w.held[who] >= 0).sum(axis=1)
    business = w.cust.segment[who]
    member = w.loyalty_join[who] < day
    cross = (
        -4.3
        + 0.7 * log_e
        + 2.0 * w.since(w.last_response[who, 0], day, 90)
        + 0.5 * member
        + 0.4 * business
        - 0.3 * (n_products - 1)
    )
    long_tenure = (day - w.cust.signup[who]) > 365
    up = (
        -4.6
        + 0.9 * log_e
        + 2.0 * w.since(w.last_response[who, 1], day, 90)
        + 0.6 * business
        + 0.5 * long_tenure
    )
    return cross, up


def step_products(w: World, m: MonthWindow, who, lo, hi) -> None:
    """At most one product event per customer and month, drawn from competing chances."""
    stay = w.churn_day[who] >= m.end
    who, lo, hi = who[stay], lo[stay], hi[stay]
    held = w.held[who] >= 0
    plan = np.where(held, w.subs["plan"][np.maximum(w.held[who], 0)], 2)
    can_cross, can_up = (~held).any(axis=1), (held & (plan < 2)).any(axis=1)
    cross, up = propensity_logits(w, who, m.start)
    p = np.column_stack(
        [
            sigmoid(cross) * can_cross,
            sigmoid(up) * can_up,
            np.full(who.size, PRICE_RISE_MONTHLY),
            CANCEL_MONTHLY * (held.sum(axis=1) >= 2),
        ]
    )
    edges = np.cumsum(p, axis=1)
    kind = (w.rng.random(who.size)[:, None] >= edges).sum(axis=1)  # 4 means no event
    day = draw_days(w.rng, lo, hi)
    add_product(w, who[kind == 0], day[kind == 0], ~held[kind == 0])
    change_plan(
        w, who[kind == 1], day[kind == 1], held[kind == 1] & (plan[kind == 1] < 2), "upgrade"
    )
    change_plan(w, who[kind == 2], day[kind == 2], held[kind == 2], "price_change")
    sel = kind == 3
    product = choose_nth_true(w.rng, held[sel])
    end_subscriptions(w, w.held[who[sel], product], day[sel])
    w.held[who[sel], product] = -1


def add_product(w: World, cust: np.ndarray, day: np.ndarray, free: np.ndarray) -> None:
    product = choose_nth_true(w.rng, free)
    plan = w.rng.choice(3, cust.size, p=[0.55, 0.35, 0.10]).astype(np.int8)
    fee = C.BASE_FEE[product] * C.PLAN_FEE_MULT[plan] * (1 + 0.8 * w.cust.segment[cust])
    fee = np.round(fee * w.rng.uniform(0.95, 1.05, cust.size), 2)
    idx = w.subs.append(
        customer=cust,
        product=product,
        plan=plan,
        fee=fee,
        start=day,
        end=np.full(cust.size, C.NO_DAY),
        prev=np.full(cust.size, -1),
        reason=np.zeros(cust.size),
    )
    w.held[cust, product] = idx


def change_plan(w: World, cust: np.ndarray, day: np.ndarray, eligible: np.ndarray, why: str):
    """Replace a subscription row by a successor: a plan upgrade or a price rise."""
    product = choose_nth_true(w.rng, eligible)
    old = w.held[cust, product]
    plan, fee = w.subs["plan"][old].copy(), w.subs["fee"][old]
    if why == "upgrade":
        new_fee = fee * C.PLAN_FEE_MULT[plan + 1] / C.PLAN_FEE_MULT[plan]
        plan = plan + 1
    else:
        new_fee = fee * w.rng.uniform(1.08, 1.2, cust.size)
        w.last_price_rise[cust] = day
    end_subscriptions(w, old, day)
    idx = w.subs.append(
        customer=cust,
        product=product,
        plan=plan,
        fee=np.round(new_fee, 2),
        start=day,
        end=np.full(cust.size, C.NO_DAY),
        prev=old,
        reason=np.full(cust.size, C.CHANGE_REASONS.index(why)),
    )
    w.held[cust, product] = idx


def end_subscriptions(w: World, idx: np.ndarray, day: np.ndarray) -> None:
    w.subs.cols["end"][idx] = day


def close_churners(w: World, m: MonthWindow) -> None:
    """Contractual churn: every open subscription ends on the churn day."""
    gone = np.flatnonzero((w.churn_day >= m.start) & (w.churn_day < m.end))
    rows, cols = np.nonzero(w.held[gone] >= 0)
    end_subscriptions(w, w.held[gone][rows, cols], w.churn_day[gone][rows])
    w.held[gone] = -1


def step_engagement(w: World, m: MonthWindow) -> None:
    """Engagement wanders, recovers from bad experiences, and fades for drifting customers."""
    w.walk = 0.85 * w.walk + w.rng.normal(0.0, 0.08, w.n)
    drifting = m.index >= w.cust.drift_start
    w.drift += np.where(drifting, w.cust.drift_rate, 0.0)
    e = np.maximum(w.cust.level * np.exp(w.walk - w.drift), 0.02)
    w.engagement_hist[1:] = w.engagement_hist[:-1]
    w.engagement_hist[0] = e


__all__ = ["N_PRODUCTS", "close_churners", "step_engagement", "step_products"]
