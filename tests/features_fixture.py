"""A hand-written CRM world of four customers around the cutoff 2024-07-01.

Every expected number in tests/unit/test_features.py is worked out by hand from these rows.
Rows dated on or after the cutoff are there on purpose: features must not see them.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

CUTOFF = dt.date(2024, 7, 1)
LOAD_DATE = dt.date(2024, 12, 31)
T = pd.Timestamp
D = lambda s: pd.Timestamp(s).date()  # noqa: E731


def frames() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "signup_date": [D("2024-01-02"), D("2024-05-01"), D("2024-01-10"), D("2023-01-01")],
            "region": ["north", "east", "west", "south"],
            "segment": ["consumer", "business", "consumer", "consumer"],
            "acquisition_channel": ["web", "referral", "store", "web"],
            "birth_year": [1980, 1990, 1970, 1960],
        }
    )
    subs = pd.DataFrame(
        [
            # id, cust, product, plan, fee, start, end, prev, reason
            (1, 1, "mobile", "basic", 20.0, "2024-01-02", "2024-05-10", None, "new"),
            (2, 1, "mobile", "basic", 24.0, "2024-05-10", None, 1, "price_change"),
            (3, 1, "tv", "premium", 50.0, "2024-01-02", "2024-06-01", None, "new"),
            (4, 1, "broadband", "basic", 40.0, "2024-07-15", None, None, "new"),  # after cutoff
            (5, 2, "mobile", "standard", 30.0, "2024-05-01", "2024-07-10", None, "new"),
            (6, 3, "tv", "basic", 30.0, "2024-01-10", "2024-07-20", None, "new"),
            (7, 3, "tv", "premium", 60.0, "2024-07-20", None, 6, "upgrade"),
            (8, 4, "mobile", "basic", 20.0, "2023-01-01", "2024-06-15", None, "new"),
        ],
        columns=[
            "subscription_id",
            "customer_id",
            "product",
            "plan",
            "monthly_fee",
            "start_date",
            "end_date",
            "previous_subscription_id",
            "change_reason",
        ],
    )
    subs["start_date"] = subs.start_date.map(D)
    subs["end_date"] = subs.end_date.map(lambda s: D(s) if s else None)
    subs["previous_subscription_id"] = subs.previous_subscription_id.astype("Int64")
    # minimum terms: 1's mobile runs to 07-21 (20 days left at the cutoff), 1's tv had a term but
    # ended, 3's basic tv runs to 2025-01-10 (193 days), 3's premium starts after the cutoff
    terms = {2: "2024-07-21", 3: "2024-12-31", 6: "2025-01-10", 7: "2024-08-01"}
    subs["commitment_end"] = subs.subscription_id.map(lambda i: D(terms[i]) if i in terms else None)
    transactions = pd.DataFrame(
        [
            (1, 1, "2024-06-20", "web", 10.0),
            (2, 1, "2024-04-15", "store", 20.0),
            (3, 1, "2023-09-01", "phone", 30.0),
            (4, 1, "2024-07-01", "web", 999.0),
            (5, 1, "2024-08-01", "web", 999.0),
        ],
        columns=["transaction_id", "customer_id", "ts", "channel", "amount"],
    )
    transactions["ts"] = pd.to_datetime(transactions.ts)
    transactions["product"] = "mobile"
    interactions = pd.DataFrame(
        [
            (1, "2024-06-25", "app", "login"),
            (1, "2024-06-10", "web", "login"),
            (1, "2024-05-01", "store", "visit"),
            (1, "2024-02-01", "store", "visit"),
            (1, "2024-01-15", "store", "visit"),
            (1, "2024-06-28", "phone", "service_call"),
            (1, "2024-06-29", "email", "email_open"),
            (1, "2024-07-01", "web", "login"),
        ],
        columns=["customer_id", "ts", "channel", "kind"],
    )
    interactions["ts"] = pd.to_datetime(interactions.ts)
    complaints = pd.DataFrame(
        [
            (1, 1, "2024-06-01", "2024-06-11", "billing", 2),
            (2, 1, "2024-06-15", None, "billing", 3),
            (3, 1, "2024-05-01", "2024-07-05", "network", 1),
            (4, 1, "2024-07-02", None, "network", 5),
        ],
        columns=["complaint_id", "customer_id", "opened_at", "resolved_at", "category", "severity"],
    )
    complaints["opened_at"] = pd.to_datetime(complaints.opened_at)
    complaints["resolved_at"] = pd.to_datetime(complaints.resolved_at)
    campaigns = pd.DataFrame(
        [
            (1, "2024-06-15", "cross_sell", "email", "2024-06-17"),
            (1, "2024-03-01", "upsell", "sms", "2024-07-03"),
            (1, "2023-05-01", "loyalty", "email", None),
        ],
        columns=["customer_id", "sent_at", "offer_type", "channel", "responded_at"],
    )
    campaigns["sent_at"] = pd.to_datetime(campaigns.sent_at)
    campaigns["responded_at"] = pd.to_datetime(campaigns.responded_at)
    members = pd.DataFrame({"customer_id": [1, 3], "joined_at": [D("2024-03-01"), D("2024-08-01")]})
    points = pd.DataFrame(
        [
            (1, "2024-02-01", "earn", 100.0),
            (1, "2024-05-01", "earn", 200.0),
            (1, "2024-06-01", "redeem", 50.0),
            (1, "2024-07-05", "redeem", 30.0),
        ],
        columns=["customer_id", "ts", "kind", "points"],
    )
    points["ts"] = pd.to_datetime(points.ts)
    referrals = pd.DataFrame(
        {"referrer_id": [1, 1], "referred_id": [2, 3], "ts": [T("2024-05-01"), T("2024-07-10")]}
    )
    surveys = pd.DataFrame(
        [
            # customer, ts, type, scale, score, verbatim
            (1, "2023-12-01", "relationship", "nps", 8.0, None),
            (1, "2024-03-01", "after_complaint", "csat", 2.0, "took weeks to fix"),
            (1, "2024-06-01", "relationship", "nps", 5.0, None),
            (1, "2024-06-20", "relationship", "nps", None, None),  # sent, never answered
            (1, "2024-07-10", "relationship", "nps", 10.0, None),  # after the cutoff
            (2, "2024-06-15", "after_purchase", "csat", 5.0, "great"),
            (4, "2024-07-02", "after_complaint", "csat", 1.0, None),  # after the cutoff
        ],
        columns=["customer_id", "ts", "type", "scale", "score", "verbatim"],
    )
    surveys["ts"] = pd.to_datetime(surveys.ts)
    return {
        "customers": customers,
        "surveys": surveys,
        "subscriptions": subs,
        "transactions": transactions,
        "interactions": interactions,
        "complaints": complaints,
        "campaigns": campaigns,
        "loyalty_members": members,
        "loyalty_points": points,
        "referrals": referrals,
    }
