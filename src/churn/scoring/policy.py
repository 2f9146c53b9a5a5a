"""Who is called: a stable hashed control group and the walk down the ranking to capacity.
Pure functions on arrays, no I/O.

The ranking is `call_priority` (churn.scoring.economics: the net value of a call, or with value
unknown the churn it prevents; NaN for a customer a rule keeps off the list). Under
`uplift_value` the job spends `score.explore_fraction` of the capacity on random calls across the
rest of the ranked base (a positive predicted effect, however small; never a customer a contact
rule or a below-zero margin keeps out), so the response model keeps learning where the ranking
does not reach.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from churn.scoring.economics import not_worth_a_call


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


def explore_key(customer_ids, as_of, salt: str) -> np.ndarray:
    """A uniform draw per customer and week: exploration reaches different customers each week,
    the same ones when a week is re-run."""
    ids = np.asarray(customer_ids).astype(str).astype(object)
    key = hashlib.sha256(f"{salt}|explore|{as_of}".encode()).hexdigest()[:16]
    return pd.util.hash_array(ids, hash_key=key).astype(np.float64) / 2.0**64


def select_calls(net: np.ndarray, holdout: np.ndarray, capacity: int) -> tuple[np.ndarray, ...]:
    """Walk down the ranking: non-holdout customers are called until capacity is reached; holdout
    customers ranked among them are the control group. Only positive net values are contacted."""
    order = np.argsort(-net, kind="stable")
    order = order[net[order] > 0]
    callable_ = ~holdout[order]
    calls_before = np.cumsum(callable_) - callable_
    within = calls_before < capacity
    return order[within & callable_], order[within & ~callable_]


def explore_calls(
    key: np.ndarray, holdout: np.ndarray, eligible: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """n random calls among the eligible, by ascending key; holdout customers drawn on the way
    are the exploration's own control group."""
    pool = np.flatnonzero(eligible)
    order = pool[np.argsort(key[pool], kind="stable")]
    callable_ = ~holdout[order]
    within = (np.cumsum(callable_) - callable_) < n
    return order[within & callable_], order[within & ~callable_]


def explorable(frame: pd.DataFrame) -> np.ndarray:
    """Who exploration may draw: anyone with a ranking (a positive predicted effect, no contact
    rule, not below zero), however low."""
    return np.isfinite(frame["call_priority"].to_numpy(dtype=float))


def plan_calls(pool: pd.DataFrame, opts: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calls, controls, explored) row positions in the pool: the ranking fills the capacity
    less the exploration share; exploration then draws from the callable rest."""
    net, holdout = pool["call_priority"].to_numpy(dtype=float), pool["holdout"].to_numpy()
    n_explore = explore_budget(opts)
    calls, controls = select_calls(net, holdout, opts["capacity"] - n_explore)
    if n_explore == 0:
        return calls, controls, np.array([], dtype=np.int64)
    eligible = explorable(pool)
    eligible[np.concatenate([calls, controls])] = False
    key = explore_key(pool["customer_id"], pool["as_of"].iloc[0], opts["holdout_salt"])
    more_calls, more_controls = explore_calls(key, holdout, eligible, n_explore)
    explored = np.concatenate([more_calls, more_controls])
    return np.concatenate([calls, more_calls]), np.concatenate([controls, more_controls]), explored


def explore_budget(opts: Mapping) -> int:
    """Calls drawn at random: a share of the capacity, when the response model ranks."""
    if opts.get("policy", "expected_loss") != "uplift_value":
        return 0
    return int(round(opts["capacity"] * opts.get("explore_fraction", 0.0)))


def top_candidates(scored: pd.DataFrame, opts: Mapping) -> pd.DataFrame:
    """The rows of a chunk that could make the global call list, its control group or its
    exploration draw (a full capacity of the chunk's lowest keys: enough whatever the ranking
    took), and the customer not worth a call whose call would save the most (to say why a list
    is short)."""
    net, holdout = scored["call_priority"].to_numpy(dtype=float), scored["holdout"].to_numpy()
    keep = list(select_calls(net, holdout, opts["capacity"]))
    if explore_budget(opts):
        key = explore_key(scored["customer_id"], scored["as_of"].iloc[0], opts["holdout_salt"])
        keep += list(explore_calls(key, holdout, explorable(scored), opts["capacity"]))
    saved = np.where(not_worth_a_call(scored), scored["expected_saved_value"], np.nan)
    if np.isfinite(saved).any():
        keep.append(np.array([np.nanargmax(saved)]))
    return scored.iloc[np.unique(np.concatenate(keep))]
