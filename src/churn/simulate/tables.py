"""Simulated columns to raw CRM tables, in the column layout the warehouse contract expects.

Event tables are converted one chunk at a time (`EVENT_TABLES`, fed by `sink.TableSink` as the
months go by); the ledgers that change until the end (customers, subscriptions, complaints) are
converted once the world has run (`ledger_tables`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from churn.simulate import catalog as C
from churn.simulate.options import RESPONSE_GROUPS

DAY = pa.date32()
TS = pa.timestamp("us")
TREATMENT_GROUPS = (None, "call", "control")  # by contact code of simulate.retention


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


def ledger_tables(w) -> dict[str, pa.Table]:
    """Customers, subscriptions and complaints, as they stand at the end of the world."""
    c, s, k = w.cust, w.subs, w.complaints
    return {
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


def transactions(t: dict, first: int) -> pa.Table:
    return pa.table(
        {
            "transaction_id": ids(first + np.arange(t["customer"].size)),
            "customer_id": ids(t["customer"]),
            "ts": stamps(t["ts"]),
            "channel": labels(t["channel"], C.SALES_CHANNELS),
            "product": labels(t["product"], C.PRODUCTS),
            "amount": pa.array(t["amount"]),
        }
    )


def interactions(i: dict, first: int) -> pa.Table:
    return pa.table(
        {
            "customer_id": ids(i["customer"]),
            "ts": stamps(i["ts"]),
            "channel": labels(i["channel"], C.INTERACTION_CHANNELS),
            "kind": labels(i["kind"], C.INTERACTION_KINDS),
        }
    )


def campaigns(cp: dict, first: int) -> pa.Table:
    return pa.table(
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
    )


def loyalty_members(lm: dict, first: int) -> pa.Table:
    return pa.table({"customer_id": ids(lm["customer"]), "joined_at": days(lm["day"])})


def loyalty_points(lp: dict, first: int) -> pa.Table:
    return pa.table(
        {
            "customer_id": ids(lp["customer"]),
            "ts": stamps(lp["ts"]),
            "kind": labels(lp["kind"], C.POINT_KINDS),
            "points": pa.array(lp["points"]),
        }
    )


def referrals(r: dict, first: int) -> pa.Table:
    return pa.table(
        {
            "referrer_id": ids(r["referrer"]),
            "referred_id": ids(r["referred"]),
            "ts": stamps(r["ts"]),
        }
    )


def hazard(h: dict, first: int) -> pa.Table:
    """The true monthly hazard per customer at risk, with and without a call (ground truth)."""
    return pa.table(
        {
            "customer_id": ids(h["customer"]),
            "month_start": days(h["month"]),
            "churn_hazard": pa.array(h["hazard"]),
            "churn_hazard_untreated": pa.array(h["untreated"]),
            "churn_hazard_called": pa.array(h["treated"]),
            "treatment_group": labels(h["contact"], ("none", *TREATMENT_GROUPS[1:])),
            "response_group": labels(h["group"], RESPONSE_GROUPS),
        }
    )


HAZARD_TABLE = "ground_truth_hazard"
EVENT_TABLES = {
    "transactions": transactions,
    "interactions": interactions,
    "campaigns": campaigns,
    "loyalty_members": loyalty_members,
    "loyalty_points": loyalty_points,
    "referrals": referrals,
    HAZARD_TABLE: hazard,
}
