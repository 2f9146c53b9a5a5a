"""Customer lifetime value from the churn model's own hazard: the margin a customer is expected
to bring over the value horizon, discounted, while they stay.

The churn label is a one-period hazard: p is the chance of leaving within `labels.horizon_days`.
Assuming that hazard holds for the whole horizon, the monthly hazard is
h = 1 - (1 - p) ** (month / horizon_days), and survival after t months is (1 - h) ** t. A month's
margin counts with the chance of being a customer through the middle of it; months are
discounted at `value.discount_rate` a year. A constant hazard overstates loss for customers whose
risk falls as they settle in, and trailing revenue misses growth; the value backtest
(`churn.training.value_backtest`) measures how far, and its ratio of realized to forecast margin
is the `level` every forecast is scaled by (ranks are unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class ValueOptions:
    """What CLV needs from the `value` and `labels` configs, typed."""

    horizon_months: int = 12
    discount_rate: float = 0.10  # a year
    margin_rate: float = 0.30  # share of revenue that is margin
    label_horizon_days: int = 30  # the churn label's window: the hazard's period
    cost_per_complaint: float = 0.0
    cost_per_contact: float = 0.0
    level: float = 1.0  # realized over forecast margin at the latest closed window (backtest)

    @classmethod
    def from_config(cls, cfg: Mapping) -> ValueOptions:
        value, labels = cfg["value"], cfg["labels"]
        serve = value.get("cost_to_serve") or {}
        return cls(
            horizon_months=int(labels.get("value_horizon_months", 12)),
            discount_rate=float(value["discount_rate"]),
            margin_rate=float(value["margin_rate"]),
            label_horizon_days=int(labels["horizon_days"]),
            cost_per_complaint=float(serve.get("per_complaint", 0.0)),
            cost_per_contact=float(serve.get("per_contact", 0.0)),
        )


def monthly_hazard(p: np.ndarray, label_horizon_days: int) -> np.ndarray:
    """The monthly chance of leaving that gives p over the label's window."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    return 1.0 - (1.0 - p) ** (MONTH_DAYS / label_horizon_days)


def expected_months(p: np.ndarray, opts: ValueOptions, discounted: bool = True) -> np.ndarray:
    """Months a customer is expected to stay within the horizon (discounted when asked)."""
    stay = 1.0 - monthly_hazard(p, opts.label_horizon_days)
    monthly_discount = (1.0 + opts.discount_rate) ** (-1.0 / 12) if discounted else 1.0
    total = np.zeros_like(stay)
    alive = np.ones_like(stay)
    for month in range(1, opts.horizon_months + 1):
        ahead = alive * stay
        total += 0.5 * (alive + ahead) * monthly_discount**month
        alive = ahead
    return total


def lifetime_value(
    p: np.ndarray, revenue_12m: np.ndarray, opts: ValueOptions, discounted: bool = True
) -> np.ndarray:
    """CLV: monthly margin (from trailing revenue) times the months the customer is expected
    to stay, times the level the value backtest measured (1 until one has). Undiscounted, it is
    the expected margin the backtest compares with what came."""
    monthly_margin = opts.margin_rate * np.nan_to_num(np.asarray(revenue_12m, float)) / 12.0
    return opts.level * monthly_margin * expected_months(p, opts, discounted)


def cost_to_serve(frame: pd.DataFrame, p: np.ndarray, opts: ValueOptions) -> np.ndarray:
    """Expected cost of serving the customer over the horizon while they stay: last year's
    complaints and campaign contacts at their configured unit costs (absent counts are 0)."""
    yearly = np.zeros(len(frame))
    for column, unit in (
        ("complaints_365d", opts.cost_per_complaint),
        ("offers_365d", opts.cost_per_contact),
    ):
        if unit and column in frame:
            yearly += unit * np.nan_to_num(frame[column].to_numpy(dtype=float))
    return yearly / 12.0 * expected_months(p, opts)
