"""What a call is worth, and which policy ranks the calls. Pure functions on arrays, no I/O.

The net value of a call is the churn it prevents times what the customer is worth (CLV, else
yearly value), less the contact cost and the expected cost of the offer: the acceptance rate times
the customer's own next action's compensation (`costs.incentive_cost`, capped by the playbook's
`max_compensation` for that action). The churn a call prevents is the response model's predicted
effect under `uplift_value`, and risk times acceptance under `expected_loss`.

With value unknown (a customer table without a money column) there is no money to weigh: calls
are ranked by the churn they prevent (risk, or the predicted effect), up to capacity, and no money
figure is shown. Below-zero customers are never called (they get a cost-to-serve action), and
where a response model predicts that a call pushes a customer to leave, they are not called
outside exploration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn.errors import ConfigError

POLICIES = ("auto", "expected_loss", "uplift_value")
BELOW_ZERO, PREDICTED_HARM = "below_zero", "predicted_harm"
COST_TO_SERVE_ACTION = "review the cost to serve (no retention call: margin is below its cost)"


@dataclass(frozen=True)
class Decision:
    """The policy that ranks this run's calls, and why (said in the log, summary and report)."""

    policy: str  # expected_loss | uplift_value
    harm_guard: bool  # a response model is there: never call a predicted harm outside exploration
    value_known: bool  # money to weigh; else ranked by the churn a call prevents
    why: str

    @property
    def ranked_by(self) -> str:
        if self.value_known:
            return "net value of a call" + (" (response model)" if self.uplift else "")
        return "the response model's predicted effect" if self.uplift else "churn risk"

    @property
    def uplift(self) -> bool:
        return self.policy == "uplift_value"


def check_policy(opts: Mapping) -> None:
    """A policy or exploration share that cannot work stops the job before any scoring."""
    if opts["policy"] not in POLICIES:
        raise ConfigError(f"score.policy={opts['policy']!r} is unknown: use {', '.join(POLICIES)}")
    if not 0.0 <= float(opts.get("explore_fraction", 0.0)) < 1.0:
        raise ConfigError(
            f"score.explore_fraction={opts['explore_fraction']}: a share of the capacity in [0, 1)"
        )


def choose_policy(asked: str, uplift_evidence: Mapping | None, value_known: bool) -> Decision:
    """`auto` follows the evidence: the response model ranks the calls when one is registered
    for this feature set and beat ranking by risk out of time (Qini); otherwise expected loss,
    with a registered response model still vetoing predicted harm. An explicit policy runs as
    asked."""
    have = uplift_evidence is not None
    if asked != "auto":  # as asked: no veto from a response model the user chose not to follow
        return Decision(asked, False, value_known, f"score.policy={asked}")
    if not have:
        why = "auto: no response model registered for this feature set (churn uplift fits one)"
        return Decision("expected_loss", False, value_known, why)
    ours, risk = uplift_evidence.get("qini_uplift"), uplift_evidence.get("qini_risk")
    said = f"Qini {ours:.4f} against {risk:.4f} by risk" if None not in (ours, risk) else ""
    if ours is not None and (risk is None or ours > risk):
        why = f"auto: the response model beat risk ranking out of time ({said or 'no risk Qini'})"
        return Decision("uplift_value", False, value_known, why)
    why = (
        f"auto: the response model did not beat risk ranking out of time ({said or 'no Qini'}); "
        "it only vetoes calls it predicts would push a customer to leave"
    )
    return Decision("expected_loss", True, value_known, why)


def offer_compensation(max_compensation, incentive_cost: float) -> np.ndarray:
    """The offer a call makes: `costs.incentive_cost`, capped by the playbook's maximum for the
    customer's next action (no playbook: the incentive as it is)."""
    cap = np.asarray(max_compensation, dtype=float)
    return np.where(np.isnan(cap), incentive_cost, np.minimum(cap, incentive_cost))


def call_economics(scored: pd.DataFrame, costs: Mapping, decision: Decision) -> pd.DataFrame:
    """Per customer: the expected value a call saves, the expected cost of its offer, the net
    value of calling (NaN when value is unknown), the priority the call list walks down (NaN:
    never called) and the rule that keeps a customer off the list, if any."""
    acceptance = float(costs["acceptance_rate"])
    p = scored["churn_probability"].to_numpy(dtype=float)
    uplift = scored["uplift"].to_numpy(dtype=float)
    prevented = uplift if decision.uplift else p * acceptance
    worth = scored["clv"].fillna(scored["value"]).to_numpy(dtype=float)
    offer = acceptance * offer_compensation(
        scored["max_compensation"], float(costs["incentive_cost"])
    )
    saved = prevented * worth
    net = saved - float(costs["contact_cost"]) - offer
    if not decision.value_known:
        saved = offer = net = np.full(len(scored), np.nan)
    priority = net if decision.value_known else prevented
    rule = np.full(len(scored), None, dtype=object)
    if decision.harm_guard:
        rule[uplift < 0] = PREDICTED_HARM
    rule[scored["value_segment"].to_numpy(dtype=object) == BELOW_ZERO] = BELOW_ZERO
    priority = np.where((prevented > 0) & pd.isna(rule), priority, np.nan)
    return pd.DataFrame(
        {
            "expected_saved_value": saved,
            "offer_cost": offer,
            "expected_net_value": net,
            "call_priority": priority,
            "contact_rule": rule,
        },
        index=scored.index,
    )


def not_worth_a_call(frame: pd.DataFrame) -> np.ndarray:
    """Customers no rule keeps out whose call would not pay: where a short list stops."""
    priority = frame["call_priority"].to_numpy(dtype=float)
    return ~(priority > 0) & pd.isna(frame["contact_rule"].to_numpy(dtype=object))


def why_short(pool: pd.DataFrame, costs: Mapping, decision: Decision, n_calls: int) -> dict:
    """Why the list holds fewer calls than the capacity: with value known, the best customer not
    called, their expected saved value against what a call costs, and the keys that change it;
    otherwise, that everyone else is kept out by a rule or held out."""
    out = {"calls": n_calls}
    rest = pool[not_worth_a_call(pool)]
    saved = rest["expected_saved_value"].to_numpy(dtype=float)
    if not decision.value_known or not np.isfinite(saved).any():
        why = "every other customer is held out, kept out by a rule, or has no positive saving"
        return {**out, "reason": why}
    best = int(np.nanargmax(saved))
    offer = float(rest["offer_cost"].iloc[best])
    return {
        **out,
        "reason": "no other call is worth its cost",
        "best_expected_saved_value": round(float(saved[best]), 4),
        "its_contact_cost": float(costs["contact_cost"]),
        "its_offer_cost": round(offer, 4),
        "keys": [
            "costs.contact_cost",
            "costs.acceptance_rate",
            "costs.incentive_cost",
            "playbook.actions.<family>.<tier>.max_compensation",
        ],
    }
