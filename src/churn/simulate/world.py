"""The demo CRM world: customers whose churn is caused by planted, known drivers.

Time moves in months. A customer's churn hazard for a month is fixed from the state at the
month's start (so a cutoff on the first of a month sees exactly what set the hazard), and the
events of the month are then drawn for everyone present. Everything is vectorised over customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn.simulate import catalog as C
from churn.simulate.book import new_complaint_ledger, new_subscription_ledger
from churn.simulate.events import EventLog
from churn.simulate.options import HazardConfig, RetentionProgram

N_PRODUCTS = len(C.PRODUCTS)
N_OFFERS = len(C.OFFER_TYPES)


def to_day(date: str | pd.Timestamp) -> int:
    return int(pd.Timestamp(date).value // 86_400_000_000_000)


@dataclass
class MonthWindow:
    index: int
    start: int
    end: int  # exclusive

    @property
    def days(self) -> int:
        return self.end - self.start


def month_windows(start: str, end: str) -> list[MonthWindow]:
    """Calendar months covering [start, end]; the last is cut at end + 1 day."""
    first = pd.Timestamp(start).to_period("M").to_timestamp()
    stop = to_day(end) + 1
    starts = pd.date_range(first, pd.Timestamp(end), freq="MS")
    days = [max(to_day(s), to_day(start)) for s in starts]
    ends = days[1:] + [stop]
    return [MonthWindow(i, s, e) for i, (s, e) in enumerate(zip(days, ends, strict=True))]


class Customers:
    """Static attributes and latent traits drawn once per customer."""

    def __init__(self, rng: np.random.Generator, n: int, start: int, end: int, existing: float):
        is_existing = rng.random(n) < existing
        self.signup = np.where(
            is_existing,
            start - rng.integers(1, 6 * 365, n),
            start + rng.integers(0, max(end - start - 45, 1), n),
        ).astype(np.int32)
        order = np.argsort(self.signup, kind="stable")  # customer ids follow signup order
        self.signup = self.signup[order]
        self.segment = (rng.random(n) < 0.15).astype(np.int8)
        self.region = rng.integers(0, len(C.REGIONS), n).astype(np.int8)
        acq_p = np.array([0.35, 0.25, 0.15, 0.15, 0.10])
        self.acquisition = rng.choice(len(C.ACQUISITION_CHANNELS), n, p=acq_p).astype(np.int8)
        self.birth_year = rng.integers(1945, 2006, n).astype(np.int16)
        self.level = np.exp(rng.normal(0.0, 0.35, n))
        n_months = (end - start) // 30 + 1
        drifter = rng.random(n) < 0.25
        self.drift_start = np.where(drifter, rng.integers(0, n_months, n), 10**6)
        self.drift_rate = rng.uniform(0.15, 0.35, n)
        self.pref, self.phone_only, self.single_channel = draw_channel_preferences(rng, n)


def draw_channel_preferences(rng: np.random.Generator, n: int):
    """Most customers mix channels; some only phone us, some stick to one other channel."""
    pref = rng.dirichlet([1.2, 1.5, 1.5, 0.5], n)
    kind = rng.choice(3, n, p=[0.73, 0.12, 0.15])
    phone_only = kind == 1
    single = kind == 2
    pref[phone_only] = [0.0, 0.0, 0.0, 1.0]
    one_hot = np.eye(4)[rng.integers(0, 3, n)]
    pref[single] = one_hot[single]
    return pref, phone_only, single


class RunningMoments:
    """Mean and standard deviation of the driver matrix over all customer-months at risk."""

    def __init__(self) -> None:
        self.n, self.total, self.total_sq = 0, 0.0, 0.0

    def add(self, x: np.ndarray) -> None:
        self.n += x.shape[0]
        self.total = self.total + x.sum(axis=0)
        self.total_sq = self.total_sq + (x * x).sum(axis=0)

    def std(self) -> np.ndarray:
        mean = self.total / max(self.n, 1)
        return np.sqrt(np.maximum(self.total_sq / max(self.n, 1) - mean * mean, 0.0))


class World:
    """Mutable state of every customer, advanced one month at a time."""

    def __init__(
        self,
        n: int,
        start: str,
        end: str,
        seed: int,
        existing: float,
        hazard: HazardConfig,
        retention: RetentionProgram | None = None,
        call_lists: dict | None = None,
        sink=None,
    ):
        self.rng = np.random.default_rng(seed)
        self.retention_rng = np.random.default_rng([seed, 1])  # picking never shifts self.rng
        self.n, self.hazard = n, hazard
        self.retention = retention or RetentionProgram()
        self.call_lists = call_lists or {}  # month start day -> (called, held out) positions
        self.start_day, self.end_day = to_day(start), to_day(end)
        self.cust = Customers(self.rng, n, self.start_day, self.end_day, existing)
        self.log = EventLog(sink)  # events go to the sink as they happen
        self.subs = new_subscription_ledger(int(n * 2.2) + 16)
        self.complaints = new_complaint_ledger(int(n * 0.5) + 16)
        self.held = np.full((n, N_PRODUCTS), -1, dtype=np.int64)
        self.churn_day = np.full(n, C.NO_DAY, dtype=np.int32)
        self.walk = np.zeros(n)
        self.engagement_hist = np.tile(self.cust.level, (4, 1))  # months m-1 .. m-4
        self.loyalty_join = np.full(n, C.NO_DAY, dtype=np.int32)
        self.points = np.zeros(n)
        self.last_redeem = np.full(n, C.NO_DAY, dtype=np.int32)
        self.referrals = np.zeros(n, dtype=np.int32)
        self.last_price_rise = np.full(n, C.NO_DAY, dtype=np.int32)
        self.last_category = np.full(n, -1, dtype=np.int8)
        self.last_response = np.full((n, N_OFFERS), C.NO_DAY, dtype=np.int32)
        self.drift = np.zeros(n)
        self.driver_stats = RunningMoments()

    @property
    def engagement(self) -> np.ndarray:
        return self.engagement_hist[0]

    def n_products(self) -> np.ndarray:
        return (self.held >= 0).sum(axis=1)

    def since(self, day_arr: np.ndarray, day: int, within: int) -> np.ndarray:
        """Whether an event day happened in the `within` days before `day`."""
        return (day_arr < day) & (day_arr.astype(np.int64) >= day - within)
