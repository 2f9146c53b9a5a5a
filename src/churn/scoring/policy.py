"""Who is called: a stable hashed control group, the expected net value of a contact, and the
walk down the ranking to capacity. Pure functions on arrays, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd


def in_holdout(customer_ids, salt: str, fraction: float) -> np.ndarray:
    """A stable random draw per customer: the same customers are control every week."""
    ids = np.asarray(customer_ids)
    key = hashlib.sha256(salt.encode()).hexdigest()[:16]
    if ids.dtype.kind in "iu":
        salted = pd.util.hash_array(ids.astype(np.int64)) ^ np.uint64(int(key, 16))
        hashed = pd.util.hash_array(salted)
    else:
        hashed = pd.util.hash_array(ids.astype(str).astype(object), hash_key=key)
    return (hashed % np.uint64(1_000_000)) < np.uint64(round(fraction * 1_000_000))


def expected_net_value(expected_loss: np.ndarray, costs: Mapping) -> np.ndarray:
    """What a contact is worth: the loss it saves if the customer accepts, less what it costs."""
    return expected_loss * costs["acceptance_rate"] - costs["contact_cost"]


def select_calls(net: np.ndarray, holdout: np.ndarray, capacity: int) -> tuple[np.ndarray, ...]:
    """Walk down the ranking: non-holdout customers are called until capacity is reached; holdout
    customers ranked among them are the control group. Only positive net values are contacted."""
    order = np.argsort(-net, kind="stable")
    order = order[net[order] > 0]
    callable_ = ~holdout[order]
    calls_before = np.cumsum(callable_) - callable_
    within = calls_before < capacity
    return order[within & callable_], order[within & ~callable_]


def top_candidates(scored: pd.DataFrame, capacity: int) -> pd.DataFrame:
    """The rows of a chunk that could make the global call list (or its control group)."""
    net, holdout = scored["expected_net_value"].to_numpy(), scored["holdout"].to_numpy()
    calls, controls = select_calls(net, holdout, capacity)
    return scored.iloc[np.sort(np.concatenate([calls, controls]))]
