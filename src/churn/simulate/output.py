"""Turn the simulated state into the raw CRM tables and the ground truth, and write them."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from churn.simulate import catalog as C
from churn.simulate.options import RESPONSE_GROUPS
from churn.simulate.steps import DRIVERS
from churn.simulate.world import World
from churn.store import staging_dir, swap_dir

DAY = pa.date32()
TREATMENT_GROUPS = (None, "call", "control")  # by contact code of simulate.retention
RESPONSE_GROUP_WORDS = {
    "sleeping_dog": "long-tenure (2 years or more), low-engagement customers with no loyalty "
    "bond and no open complaint",
    "complaint_or_price": "an unresolved complaint, or a price rise in the last 90 days",
    "drifting": "usage drifting below the customer's own usual level",
    "other": "everyone else",
}
TS = pa.timestamp("us")


def labels(codes: np.ndarray, vocabulary: tuple[str, ...]) -> pa.Array:
    """Codes to a dictionary-encoded string column (cheap to build, read back as strings)."""
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(vocabulary))


def days(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int32), DAY, mask=values >= C.NO_DAY)


def stamps(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(values.astype(np.int64), TS, mask=missing)


def ids(index: np.ndarray) -> pa.Array:
    """Internal 0-based positions become 1-based customer ids."""
    return pa.array(index.astype(np.int64) + 1, pa.int64())


def build_tables(w: World) -> dict[str, pa.Table]:
    """The raw CRM tables, in the column layout the warehouse contract expects."""
    c, s, k = w.cust, w.subs, w.complaints
    out = {
        "customers": pa.table(
            {
                "customer_id": ids(np.arange(w.n)),
                "signup_date": days(c.signup),
                "region": labels(c.region, C.REGIONS),
                "segment": labels(c.segment, C.SEGMENTS),
                "acquisition_channel": labels(c.acquisition, C.ACQUISITION_CHANNELS),
                "birth_year": pa.array(c.birth_year.astype(np.int32)),
            }
        ),
        "subscriptions": pa.table(
            {
                "subscription_id": ids(np.arange(s.n)),
                "customer_id": ids(s["customer"]),
                "product": labels(s["product"], C.PRODUCTS),
                "plan": labels(s["plan"], C.PLANS),
                "monthly_fee": pa.array(s["fee"]),
                "start_date": days(s["start"]),
                "end_date": days(s["end"]),
                "previous_subscription_id": pa.array(s["prev"] + 1, pa.int64(), mask=s["prev"] < 0),
                "change_reason": labels(s["reason"], C.CHANGE_REASONS),
            }
        ),
        "complaints": pa.table(
            {
                "complaint_id": ids(np.arange(k.n)),
                "customer_id": ids(k["customer"]),
                "opened_at": stamps(k["opened_us"]),
                "resolved_at": stamps(k["resolved_us"], k["resolved"] > w.end_day),
                "category": labels(k["category"], C.COMPLAINT_CATEGORIES),
                "severity": pa.array(k["severity"].astype(np.int32)),
            }
        ),
    }
    out.update(build_event_tables(w))
    return out


def build_event_tables(w: World) -> dict[str, pa.Table]:
    t, i, cp = (
        w.log.collect("transactions"),
        w.log.collect("interactions"),
        w.log.collect("campaigns"),
    )
    lm, lp, r = (
        w.log.collect("loyalty_members"),
        w.log.collect("loyalty_points"),
        w.log.collect("referrals"),
    )
    return {
        "transactions": pa.table(
            {
                "transaction_id": ids(np.arange(t["customer"].size)),
                "customer_id": ids(t["customer"]),
                "ts": stamps(t["ts"]),
                "channel": labels(t["channel"], C.SALES_CHANNELS),
                "product": labels(t["product"], C.PRODUCTS),
                "amount": pa.array(t["amount"]),
            }
        ),
        "interactions": pa.table(
            {
                "customer_id": ids(i["customer"]),
                "ts": stamps(i["ts"]),
                "channel": labels(i["channel"], C.INTERACTION_CHANNELS),
                "kind": labels(i["kind"], C.INTERACTION_KINDS),
            }
        ),
        "campaigns": pa.table(
            {
                "customer_id": ids(cp["customer"]),
                "sent_at": stamps(cp["ts"]),
                "offer_type": labels(cp["offer"], C.OFFER_TYPES),
                "channel": labels(cp["channel"], C.CAMPAIGN_CHANNELS),
                "responded_at": stamps(cp["responded"], cp["responded"] < 0),
                "treatment_group": pa.array(
                    np.array(TREATMENT_GROUPS)[cp["group"]], pa.string(), mask=cp["group"] == 0
                ),
            }
        ),
        "loyalty_members": pa.table(
            {
                "customer_id": ids(lm["customer"]),
                "joined_at": days(lm["day"]),
            }
        ),
        "loyalty_points": pa.table(
            {
                "customer_id": ids(lp["customer"]),
                "ts": stamps(lp["ts"]),
                "kind": labels(lp["kind"], C.POINT_KINDS),
                "points": pa.array(lp["points"]),
            }
        ),
        "referrals": pa.table(
            {
                "referrer_id": ids(r["referrer"]),
                "referred_id": ids(r["referred"]),
                "ts": stamps(r["ts"]),
            }
        ),
    }


# planted driver -> its family in churn.drivers.DRIVER_FAMILIES
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


def build_ground_truth(w: World, seed: int, start: str, end: str) -> tuple[dict, pa.Table]:
    """The planted drivers with direction and strength, and the true hazard per customer-month."""
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
    hz = w.hazard_rows
    hazard = pa.table(
        {
            "customer_id": ids(np.concatenate([h["customer"] for h in hz])),
            "month_start": days(np.concatenate([h["month"] for h in hz])),
            "churn_hazard": pa.array(np.concatenate([h["hazard"] for h in hz])),
            "churn_hazard_untreated": pa.array(np.concatenate([h["untreated"] for h in hz])),
            "churn_hazard_called": pa.array(np.concatenate([h["treated"] for h in hz])),
            "treatment_group": labels(
                np.concatenate([h["contact"] for h in hz]), ("none", *TREATMENT_GROUPS[1:])
            ),
            "response_group": labels(np.concatenate([h["group"] for h in hz]), RESPONSE_GROUPS),
        }
    )
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
    return truth, hazard


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


def write_world(tables: dict[str, pa.Table], truth: dict, hazard: pa.Table, raw_dir: Path) -> None:
    """Write every table to a fresh folder, then swap it in: readers never see half a world."""
    raw_dir = Path(raw_dir)
    tmp = staging_dir(raw_dir)
    try:
        for name, table in {**tables, "ground_truth_hazard": hazard}.items():
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
        (tmp / "ground_truth.json").write_text(json.dumps(truth, indent=2) + "\n")
        swap_dir(tmp, raw_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
