"""Monthly activity of present customers: interactions, purchases, complaints, offers, points."""

from __future__ import annotations

import numpy as np

from churn.simulate import catalog as C
from churn.simulate.book import count_open
from churn.simulate.events import (
    US_PER_DAY,
    choose_categorical,
    choose_nth_true,
    draw_counts,
    draw_times,
    sigmoid,
)
from churn.simulate.world import MonthWindow, World

# cross_sell, upsell, retention, loyalty: retention calls come from the retention program only
MARKETING_OFFER_MIX = (0.4375, 0.3125, 0.0, 0.25)


def fill(like: np.ndarray, code: int) -> np.ndarray:
    return np.full(like.size, code, dtype=np.int8)


def step_interactions(w: World, m: MonthWindow, who, lo, hi, exposure) -> None:
    """Logins and visits follow engagement; open complaints bring service calls."""
    rng, e = w.rng, w.engagement[who]
    cust, ts = draw_times(rng, who, draw_counts(rng, 4.0 * e, exposure), lo, hi)
    channel = choose_categorical(rng, w.cust.pref[cust])
    web_kind = np.where(rng.random(cust.size) < 0.75, 0, 1)
    kind = np.select([channel == 0, channel == 3], [1, 2], web_kind).astype(np.int8)
    w.log.add("interactions", customer=cust, ts=ts, channel=channel, kind=kind)
    cust, ts = draw_times(rng, who, draw_counts(rng, np.full(who.size, 0.5), exposure), lo, hi)
    w.log.add("interactions", customer=cust, ts=ts, channel=fill(cust, 4), kind=fill(cust, 3))
    opens = count_open(w.complaints, w.n, m.start)[who]
    cust, ts = draw_times(rng, who, draw_counts(rng, 0.8 * opens, exposure), lo, hi)
    w.log.add("interactions", customer=cust, ts=ts, channel=fill(cust, 3), kind=fill(cust, 2))


def step_transactions(w: World, who, lo, hi, exposure) -> np.ndarray:
    """Purchases on held products; returns each customer's spend this month (for points)."""
    rng, e = w.rng, w.engagement[who]
    n_products = (w.held[who] >= 0).sum(axis=1)
    rate = 0.9 * e * (0.6 + 0.4 * n_products)
    cust, ts = draw_times(rng, who, draw_counts(rng, rate, exposure), lo, hi)
    channel = choose_categorical(rng, w.cust.pref[cust])
    product = choose_nth_true(rng, w.held[cust] >= 0)
    amount = C.BASE_FEE[product] * rng.lognormal(0.0, 0.5, cust.size)
    amount = np.round(amount * (1 + 0.8 * w.cust.segment[cust]), 2)
    w.log.add("transactions", customer=cust, ts=ts, channel=channel, product=product, amount=amount)
    return np.bincount(cust, weights=amount, minlength=w.n)


def step_complaints(w: World, m: MonthWindow, who, lo, hi, exposure) -> None:
    """Complaints pile up for phone-only customers, after price rises and in the weak region."""
    rng = w.rng
    price_recent = w.since(w.last_price_rise[who], m.start, 90)
    rate = 0.03 + 0.03 * w.cust.phone_only[who] + 0.05 * price_recent
    rate = rate * C.REGION_COMPLAINT_MULT[w.cust.region[who]]
    cust, opened_us = draw_times(rng, who, draw_counts(rng, rate, exposure), lo, hi)
    last = w.last_category[cust]
    again = (last >= 0) & (rng.random(cust.size) < 0.45)
    category = np.where(again, last, rng.integers(0, len(C.COMPLAINT_CATEGORIES), cust.size))
    severity = (1 + rng.choice(3, cust.size, p=[0.55, 0.32, 0.13])).astype(np.int8)
    slow = rng.random(cust.size) < 0.4
    days_to_resolve = rng.exponential(np.where(slow, 90.0, 6.0)) + 0.05
    resolved_us = opened_us + (days_to_resolve * US_PER_DAY).astype(np.int64)
    w.complaints.append(
        customer=cust,
        opened_us=opened_us,
        opened=opened_us // US_PER_DAY,
        resolved_us=resolved_us,
        resolved=np.minimum(resolved_us // US_PER_DAY, C.NO_DAY),
        category=category,
        severity=severity,
        repeat=(category == last),
    )
    w.last_category[cust] = category
    np.add.at(w.walk, cust, -0.04 * severity)  # a pile-up of bad experiences


def step_campaigns(w: World, who, lo, hi, exposure) -> None:
    """Marketing offers go out at random; engaged customers respond more often. Retention
    calls are the retention program's (`simulate.retention`), never drawn here."""
    rng = w.rng
    got = rng.random(who.size) < 0.12 * exposure
    cust, sent = draw_times(rng, who[got], np.ones(got.sum(), dtype=np.int64), lo[got], hi[got])
    offer = rng.choice(len(C.OFFER_TYPES), cust.size, p=MARKETING_OFFER_MIX).astype(np.int8)
    channel = rng.choice(len(C.CAMPAIGN_CHANNELS), cust.size, p=[0.45, 0.2, 0.1, 0.15, 0.1])
    p_respond = sigmoid(-1.6 + 0.7 * np.log(w.engagement[cust]))
    responded = rng.random(cust.size) < p_respond
    responded_us = sent + (rng.exponential(3.0, cust.size) * US_PER_DAY).astype(np.int64)
    responded &= responded_us < (w.end_day + 1) * US_PER_DAY
    responded_us = np.where(responded, responded_us, -1)
    w.log.add(
        "campaigns",
        customer=cust,
        ts=sent,
        offer=offer,
        channel=channel.astype(np.int8),
        responded=responded_us,
        group=np.zeros(cust.size, dtype=np.int8),  # not part of a retention test
    )
    w.last_response[cust[responded], offer[responded]] = responded_us[responded] // US_PER_DAY


def step_loyalty(w: World, m: MonthWindow, who, lo, hi, spend: np.ndarray) -> None:
    """Joining, earning points on spend and redeeming them: the reward bond."""
    rng, e = w.rng, w.engagement[who]
    member = w.loyalty_join[who] < hi
    invited = w.since(w.last_response[who, 3], m.end, m.days)
    p_join = 0.012 + 0.01 * np.minimum(e, 2.0) + 0.3 * invited
    joins = ~member & (rng.random(who.size) < p_join)
    w.loyalty_join[who[joins]] = lo[joins] + np.floor(rng.random(joins.sum()) * (hi - lo)[joins])
    w.log.add("loyalty_members", customer=who[joins], day=w.loyalty_join[who[joins]])
    earners = member & (spend[who] >= 1.0)
    earned = np.floor(spend[who[earners]])
    w.points[who[earners]] += earned
    ts = (hi[earners].astype(np.int64) - 1) * US_PER_DAY + 20 * 3600 * 10**6
    w.log.add("loyalty_points", customer=who[earners], ts=ts, kind=fill(ts, 0), points=earned)
    redeem = (
        (w.loyalty_join[who] < lo)
        & (w.points[who] >= 100)
        & (rng.random(who.size) < 0.15 * np.minimum(e, 2.0))
    )
    cust = who[redeem]
    points = np.floor(w.points[cust] * rng.uniform(0.5, 1.0, cust.size))
    w.points[cust] -= points
    _, ts = draw_times(rng, cust, np.ones(cust.size, dtype=np.int64), lo[redeem], hi[redeem])
    w.last_redeem[cust] = ts // US_PER_DAY
    w.log.add("loyalty_points", customer=cust, ts=ts, kind=fill(ts, 1), points=points)
