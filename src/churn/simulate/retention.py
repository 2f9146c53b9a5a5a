"""The world's retention calls: who is picked each month, who is held out, and what a call does.

A call is made on the first day of a month and changes that month's churn hazard by its
customer's planted effect (`RetentionEffects`): a cutoff on the first of the month sees nothing
of it, and the month's churn label is exactly what it changed. Picking uses a stream of random
numbers of its own, so a month called from a published list leaves every other draw of the
world as it was.
"""

from __future__ import annotations

import numpy as np

from churn.simulate import catalog as C
from churn.simulate.events import US_PER_DAY, sigmoid
from churn.simulate.options import RESPONSE_GROUPS, RetentionProgram
from churn.simulate.world import MonthWindow, World, to_day

NOT_PICKED, CALLED, HELD_OUT = 0, 1, 2  # contact codes, as the hazard table records them
RETENTION_OFFER = C.OFFER_TYPES.index("retention")
PHONE = C.CAMPAIGN_CHANNELS.index("phone")
P_RESPOND = 0.35


def response_group(w: World, who: np.ndarray, x: np.ndarray, day: int) -> np.ndarray:
    """Each customer's response group (index into RESPONSE_GROUPS), first match wins.

    `x` is the driver matrix of `steps.driver_matrix`: column 0 unresolved complaints, 2 the
    drift from usual usage, 5 a price rise in the last 90 days, 8 loyalty membership.
    """
    prog: RetentionProgram = w.retention
    tenure = day - w.cust.signup[who]
    sleeping = (
        (tenure >= prog.sleeping_dog_tenure_days)
        & (w.engagement[who] < prog.sleeping_dog_engagement)
        & (x[:, 8] == 0)
        & (x[:, 0] == 0)
    )
    complaint_or_price = (x[:, 0] > 0) | (x[:, 5] > 0)
    drifting = x[:, 2] > 0.05
    group = np.full(who.size, RESPONSE_GROUPS.index("other"), dtype=np.int8)
    for name, mask in (
        ("drifting", drifting),
        ("complaint_or_price", complaint_or_price),
        ("sleeping_dog", sleeping),
    ):  # later wins, so the list runs from the weakest claim to the strongest
        group[mask] = RESPONSE_GROUPS.index(name)
    return group


def call_effects(w: World, group: np.ndarray) -> np.ndarray:
    effects = np.array([getattr(w.retention.effects, g) for g in RESPONSE_GROUPS])
    return effects[group]


def treated_hazard(logit: np.ndarray, effect: np.ndarray, move: float) -> np.ndarray:
    """The month's hazard with the call's log-odds added to the relational part only."""
    return 1.0 - (1.0 - sigmoid(logit + effect)) * (1.0 - move)


def pick_by_program(w: World, who: np.ndarray, logit: np.ndarray) -> np.ndarray:
    """The world's own rule: part random exploration, the rest the riskiest by a noisy rule;
    a random share of the picked held out as control."""
    prog, rng = w.retention, w.retention_rng
    n_pick = int(round(prog.monthly_share * who.size))
    contact = np.zeros(who.size, dtype=np.int8)
    if n_pick == 0:
        return contact
    n_explore = int(round(prog.explore_share * n_pick))
    explored = rng.choice(who.size, n_explore, replace=False)
    ranked = logit + rng.normal(0.0, prog.risk_rule_noise, who.size)
    ranked[explored] = -np.inf
    by_risk = np.argsort(-ranked, kind="stable")[: n_pick - n_explore]
    picked = np.concatenate([explored, by_risk])
    held = rng.random(picked.size) < prog.control_fraction
    contact[picked] = np.where(held, HELD_OUT, CALLED)
    return contact


def pick_from_list(who: np.ndarray, calls: np.ndarray, controls: np.ndarray) -> np.ndarray:
    """A published list (internal positions): its call group is called, its control held out."""
    contact = np.zeros(who.size, dtype=np.int8)
    contact[np.isin(who, controls)] = HELD_OUT
    contact[np.isin(who, calls)] = CALLED
    return contact


def pick_contacts(w: World, m: MonthWindow, who: np.ndarray, logit: np.ndarray) -> np.ndarray:
    """Contact codes for the customers at risk this month (none before the program starts)."""
    if m.start in w.call_lists:
        return pick_from_list(who, *w.call_lists[m.start])
    if m.start < to_day(w.retention.start):
        return np.zeros(who.size, dtype=np.int8)
    return pick_by_program(w, who, logit)


def log_contacts(w: World, m: MonthWindow, who: np.ndarray, contact: np.ndarray) -> None:
    """Calls and held-out customers go to `campaigns` (offer_type retention, with their
    treatment_group) on the month's first day; the called answer now and then."""
    rng = w.retention_rng
    picked = np.flatnonzero(contact != NOT_PICKED)
    cust, code = who[picked], contact[picked]
    sent = m.start * US_PER_DAY + (rng.random(cust.size) * 8 * 3600 * 10**6).astype(np.int64)
    answered = (code == CALLED) & (rng.random(cust.size) < P_RESPOND)
    responded = sent + (rng.exponential(2.0, cust.size) * US_PER_DAY).astype(np.int64)
    answered &= responded < (w.end_day + 1) * US_PER_DAY
    w.log.add(
        "campaigns",
        customer=cust,
        ts=sent,
        offer=np.full(cust.size, RETENTION_OFFER, dtype=np.int8),
        channel=np.full(cust.size, PHONE, dtype=np.int8),
        responded=np.where(answered, responded, -1),
        group=code,
    )
