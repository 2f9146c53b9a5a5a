"""Vectorised event draws: one numpy call per event kind and month, never a loop per event."""

from __future__ import annotations

import numpy as np

US_PER_DAY = 86_400_000_000


class EventLog:
    """Where the steps put their events: straight on to the sink that writes them (see
    `simulate.sink`), so the world never holds its whole history."""

    def __init__(self, sink) -> None:
        self.sink = sink

    def add(self, table: str, **columns: np.ndarray) -> None:
        self.sink.add(table, columns)


def draw_counts(rng: np.random.Generator, rate: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Poisson counts for a month, scaled by the share of the month each customer was present."""
    return rng.poisson(np.maximum(rate, 0.0) * exposure)


def draw_times(
    rng: np.random.Generator, who: np.ndarray, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat each customer by its count and give every event a uniform time in [lo, hi) days."""
    cust = np.repeat(who, counts)
    lo_r = np.repeat(lo, counts).astype(np.int64)
    span = np.repeat(hi - lo, counts).astype(np.int64)
    offset_us = (rng.random(cust.size) * span * US_PER_DAY).astype(np.int64)
    return cust, lo_r * US_PER_DAY + offset_us


def draw_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """One uniform day in [lo, hi) per row."""
    return (lo + np.floor(rng.random(lo.size) * (hi - lo))).astype(np.int32)


def choose_categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw from a (rows, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0])[:, None] * cum[:, -1:]
    return (u >= cum).sum(axis=1).astype(np.int8)


def choose_nth_true(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """For each row of a boolean matrix with at least one True, the column of a random True."""
    n_true = mask.sum(axis=1)
    k = np.floor(rng.random(mask.shape[0]) * n_true).astype(np.int64)
    cum = np.cumsum(mask, axis=1)
    return (cum <= k[:, None]).sum(axis=1).astype(np.int8)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
