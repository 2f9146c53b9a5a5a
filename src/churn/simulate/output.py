"""The ledgers and the ground truth, written once the world has run (its events are already
streamed by the sink)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pyarrow.parquet as pq

from churn.simulate.options import RESPONSE_GROUPS
from churn.simulate.sink import TableSink
from churn.simulate.steps import DRIVERS
from churn.simulate.tables import HAZARD_TABLE, ledger_tables
from churn.simulate.world import World

RESPONSE_GROUP_WORDS = {
    "sleeping_dog": "long-tenure (2 years or more), low-engagement customers with no loyalty "
    "bond and no open complaint",
    "complaint_or_price": "an unresolved complaint, or a price rise in the last 90 days",
    "drifting": "usage drifting below the customer's own usual level",
    "other": "everyone else",
}


# planted driver -> its family in churn.vocabulary.DRIVER_FAMILIES
PLANTED_FAMILIES = {
    "unresolved_complaints": "complaints",
    "repeat_complaints": "complaints",
    "usage_decline": "drifting_away",
    "phone_only": "channel_friction",
    "single_channel": "channel_friction",
    "price_increase": "price",
    "early_life": "early_life",
    "products": "structural_bonds",
    "loyalty_member": "reward_bonds",
    "loyalty_redemption": "reward_bonds",
    "referrals": "social_bonds",
}


def build_ground_truth(w: World, seed: int, start: str, end: str) -> dict:
    """The planted drivers with direction and strength (the true hazard per customer-month is
    streamed to ground_truth_hazard.parquet while the world runs)."""
    std = w.driver_stats.std()
    drivers = []
    for j, name in enumerate(DRIVERS):
        coef = float(getattr(w.hazard, name))
        drivers.append(
            {
                "name": name,
                "driver_family": PLANTED_FAMILIES[name],
                "direction": "raises" if coef > 0 else "lowers",
                "sign": 1 if coef > 0 else -1,
                "coefficient": coef,
                "strength": round(abs(coef) * float(std[j]), 6),
            }
        )
    drivers.sort(key=lambda d: -d["strength"])
    truth = {
        "seed": seed,
        "n_customers": w.n,
        "start": start,
        "end": end,
        "churn_drivers": drivers,
        "strength_definition": (
            "|coefficient| x standard deviation of the driver over at-risk customer-months "
            "(log-odds)"
        ),
        "base_logit": w.hazard.base_logit,
        "non_relational_churn": {"cause": "move", "monthly_probability": w.hazard.move_monthly},
        "hazard_table": "ground_truth_hazard.parquet",
        "hazard_definition": (
            "churn_hazard is the probability that a customer active at month_start churns "
            "before the next month starts; it is fixed by data before month_start and constant "
            "within the month, "
            "so the daily hazard is 1 - (1 - churn_hazard) ** (1 / days_in_month)."
        ),
        "retention_calls": retention_truth(w),
        "propensity_drivers": {
            "cross_sell": {
                "engagement_log": 0.7,
                "cross_sell_offer_response_90d": 2.0,
                "loyalty_member": 0.5,
                "business": 0.4,
                "products_minus_one": -0.3,
            },
            "upsell": {
                "engagement_log": 0.9,
                "upsell_offer_response_90d": 2.0,
                "business": 0.6,
                "tenure_over_365d": 0.5,
            },
        },
    }
    return truth


def retention_truth(w: World) -> dict:
    """The planted effect of a retention call per response group, and the program that called."""
    prog = w.retention
    effects = {}
    for name in RESPONSE_GROUPS:
        log_odds = float(getattr(prog.effects, name))
        effects[name] = {
            "log_odds": log_odds,
            "direction": "saves" if log_odds < 0 else "pushes to leave" if log_odds > 0 else "none",
            "who": RESPONSE_GROUP_WORDS[name],
        }
    return {
        "effects": effects,
        "movers": "a call never changes the chance of moving away (non_relational_churn)",
        "program": {k: v for k, v in asdict(prog).items() if k != "effects"},
        "hazard_columns": (
            "churn_hazard_untreated and churn_hazard_called are the month's hazard without and "
            "with a call on its first day; churn_hazard is the one that applied; "
            "treatment_group is call, control (picked, held out) or none"
        ),
    }


def write_world(w: World, sink: TableSink, folder: Path, seed: int, start: str, end: str):
    """Close the streamed event tables, then write the ledgers and the ground truth into the
    staging folder; returns the rows per CRM table and the truth."""
    counts = sink.close()
    counts.pop(HAZARD_TABLE, None)
    for name, table in ledger_tables(w).items():
        pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
        counts[name] = table.num_rows
    truth = build_ground_truth(w, seed, start, end)
    (folder / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return counts, truth
