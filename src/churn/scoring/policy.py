"""Who is called: a stable hashed control group, the net value of a contact under the chosen
policy, and the walk down the ranking to capacity. Pure functions on arrays, no I/O.

Policies (`score.policy`): `expected_loss` ranks by what a leaver would cost, times the share of
would-be leavers a call keeps; `uplift_value` ranks by what the call itself changes (the response
model's drop in churn probability) times CLV, never calls a customer whose predicted effect is
not positive, and spends `score.explore_fraction` of the capacity on random calls across the rest
of the base, so the response model keeps learning where the ranking does not reach.
"""

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


POLICIES = ("expected_loss", "uplift_value")


def expected_net_value(expected_loss: np.ndarray, costs: Mapping) -> np.ndarray:
    """What a contact is worth: the loss it saves if the customer accepts, less what it costs."""
    return expected_loss * costs["acceptance_rate"] - costs["contact_cost"]


def contact_value(scored: pd.DataFrame, costs: Mapping, policy: str) -> np.ndarray:
    """The net value of calling each customer under the policy; empty (NaN) where uplift_value
    never calls: a predicted effect that is not positive, or none."""
    if policy == "expected_loss":
        return expected_net_value(scored["expected_loss"].to_numpy(), costs)
    if policy != "uplift_value":
        raise ValueError(f"score.policy={policy!r} is unknown: use {' or '.join(POLICIES)}")
    uplift = scored["uplift"].to_numpy(dtype=float)
    worth = scored["clv"].fillna(scored["value"]).to_numpy(dtype=float)
    net = uplift * worth - costs["contact_cost"]
    return np.where(uplift > 0, net, np.nan)


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


def plan_calls(pool: pd.DataFrame, opts: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calls, controls, explored) row positions in the pool: the ranking fills the capacity
    less the exploration share; exploration then draws from the callable rest."""
    net, holdout = pool["expected_net_value"].to_numpy(), pool["holdout"].to_numpy()
    n_explore = explore_budget(opts)
    calls, controls = select_calls(net, holdout, opts["capacity"] - n_explore)
    if n_explore == 0:
        return calls, controls, np.array([], dtype=np.int64)
    eligible = np.isfinite(net)  # uplift_value never calls a non-positive predicted effect
    eligible[np.concatenate([calls, controls])] = False
    key = explore_key(pool["customer_id"], pool["as_of"].iloc[0], opts["holdout_salt"])
    more_calls, more_controls = explore_calls(key, holdout, eligible, n_explore)
    explored = np.concatenate([more_calls, more_controls])
    return np.concatenate([calls, more_calls]), np.concatenate([controls, more_controls]), explored


def explore_budget(opts: Mapping) -> int:
    if opts.get("policy", "expected_loss") != "uplift_value":
        return 0
    return int(round(opts["capacity"] * opts.get("explore_fraction", 0.0)))


def top_candidates(scored: pd.DataFrame, opts: Mapping) -> pd.DataFrame:
    """The rows of a chunk that could make the global call list, its control group or its
    exploration draw (a full capacity of the chunk's lowest keys: enough whatever the ranking
    took)."""
    net, holdout = scored["expected_net_value"].to_numpy(), scored["holdout"].to_numpy()
    keep = list(select_calls(net, holdout, opts["capacity"]))
    if explore_budget(opts):
        key = explore_key(scored["customer_id"], scored["as_of"].iloc[0], opts["holdout_salt"])
        keep += list(explore_calls(key, holdout, np.isfinite(net), opts["capacity"]))
    return scored.iloc[np.unique(np.concatenate(keep))]
