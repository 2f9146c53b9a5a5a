"""Growable subscription and complaint ledgers kept as numpy columns."""

from __future__ import annotations

import numpy as np

from churn.simulate.catalog import NO_DAY


class Ledger:
    """Columns that grow by appending whole arrays; rows can be updated in place by index."""

    def __init__(self, dtypes: dict[str, type], capacity: int = 1024) -> None:
        self.n = 0
        self.cols = {k: np.empty(capacity, dtype=t) for k, t in dtypes.items()}

    def append(self, **values: np.ndarray) -> np.ndarray:
        size = len(next(iter(values.values())))
        self._reserve(self.n + size)
        idx = np.arange(self.n, self.n + size, dtype=np.int64)
        for k, col in self.cols.items():
            col[self.n : self.n + size] = values[k]
        self.n += size
        return idx

    def _reserve(self, needed: int) -> None:
        capacity = len(next(iter(self.cols.values())))
        if needed <= capacity:
            return
        new_cap = max(needed, 2 * capacity)
        for k, col in self.cols.items():
            grown = np.empty(new_cap, dtype=col.dtype)
            grown[: self.n] = col[: self.n]
            self.cols[k] = grown

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key][: self.n]


def new_subscription_ledger(capacity: int) -> Ledger:
    return Ledger(
        {
            "customer": np.int64,
            "product": np.int8,
            "plan": np.int8,
            "fee": np.float64,
            "start": np.int32,
            "end": np.int32,
            "prev": np.int64,
            "reason": np.int8,
        },
        capacity,
    )


def new_complaint_ledger(capacity: int) -> Ledger:
    return Ledger(
        {
            "customer": np.int64,
            "opened_us": np.int64,
            "opened": np.int32,
            "resolved_us": np.int64,
            "resolved": np.int32,
            "category": np.int8,
            "severity": np.int8,
            "repeat": np.bool_,
        },
        capacity,
    )


def count_open(ledger: Ledger, n_customers: int, day: int) -> np.ndarray:
    """Complaints opened before `day` and not resolved by it, per customer."""
    opened, resolved = ledger["opened"], ledger["resolved"]
    is_open = (opened < day) & (resolved >= day)
    return np.bincount(ledger["customer"][is_open], minlength=n_customers)


def count_recent(ledger: Ledger, n_customers: int, day: int, days: int, col: str) -> np.ndarray:
    """Rows flagged `col` opened in [day - days, day), per customer."""
    opened = ledger["opened"]
    hit = (opened < day) & (opened >= day - days) & ledger[col]
    return np.bincount(ledger["customer"][hit], minlength=n_customers)


__all__ = ["Ledger", "NO_DAY", "count_open", "count_recent"]
