"""What the demo world plants: churn drivers and the effect of a retention call, by customer.

`ground_truth.json` records both, so every claim the product makes about drivers, uplift and
outcomes can be checked against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class HazardConfig:
    """Planted monthly churn drivers (log-odds per unit); ground_truth.json records them."""

    base_logit: float = -4.1
    unresolved_complaints: float = 1.0
    repeat_complaints: float = 0.45
    usage_decline: float = 1.5
    phone_only: float = 1.1
    single_channel: float = 0.3
    price_increase: float = 0.9
    early_life: float = 0.8
    products: float = -0.45
    loyalty_member: float = -0.6
    loyalty_redemption: float = -0.4
    referrals: float = -0.4
    move_monthly: float = 0.004


# Who a retention call changes, first matching group wins. Effects are log-odds added to the
# month's relational hazard when the customer is called at the month's start; moving house is
# not relational, so no call changes it.
RESPONSE_GROUPS = ("sleeping_dog", "complaint_or_price", "drifting", "other")


@dataclass
class RetentionEffects:
    """Log-odds change of the month's churn hazard when called (negative: the call saves)."""

    sleeping_dog: float = 1.0  # long-tenure, low-engagement, no loyalty bond: a call wakes them
    complaint_or_price: float = -1.4  # an unresolved complaint or a recent price rise
    drifting: float = -0.5  # a slow drift away: a call helps a little
    other: float = -0.2


@dataclass
class RetentionProgram:
    """The world's own history of retention calls: each month from `start`, `monthly_share` of
    the customers at risk are picked, `explore_share` of them at random and the rest by a noisy
    risk rule; `control_fraction` of the picked are held out as a randomized control group.
    `call_lists` names a scores folder: a month whose start is a published as_of calls that
    list's call group and holds out its control group instead (the product's own calls)."""

    start: str = "2023-07-01"
    monthly_share: float = 0.10
    explore_share: float = 0.5
    control_fraction: float = 0.3
    risk_rule_noise: float = 0.5  # log-odds noise of the risk rule's ranking
    sleeping_dog_tenure_days: int = 730
    sleeping_dog_engagement: float = 0.8  # engagement below this level
    effects: RetentionEffects = field(default_factory=RetentionEffects)
    call_lists: str | None = None
