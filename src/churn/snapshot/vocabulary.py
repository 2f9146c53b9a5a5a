"""What a column's name and values say about it: id, missing tokens, label values, driver family.

The shipped vocabulary maps words in a column name to the churn cause it speaks to. A name that
matches none stays `unassigned`: shown as such, never offered as a reason to act on until the
user assigns it in the data config.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from churn.vocabulary import DRIVER_FAMILIES, NOT_ACTIONABLE

MISSING_TOKENS = ("", "NA", "N/A", "n/a", "na", "null", "NULL", "NaN", "nan", "None", "none", "?")
POSITIVE_LABELS = {"1", "true", "yes", "y", "t", "churn", "churned", "left", "lost", "exited"}
NEGATIVE_LABELS = {"0", "false", "no", "n", "f", "stayed", "retained", "active", "kept"}
ID_WORDS = {"id", "key", "number", "no", "num", "nr", "uuid", "guid", "code"}
# first match wins, so the more specific causes come first
FAMILY_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (
        "competition",
        (
            "competitor",
            "competitors",
            "competition",
            "port",
            "porting",
            "portout",
            "port_out",
            "retention",
            "winback",
        ),
    ),
    (
        "dissatisfaction",
        (
            "satisfaction",
            "satisfied",
            "dissatisfied",
            "dissatisfaction",
            "nps",
            "csat",
            "survey",
            "surveys",
            "promoter",
            "detractor",
            "sentiment",
        ),
    ),
    (
        "complaints",
        (
            "complaint",
            "complaints",
            "complain",
            "care",
            "dispute",
            "disputes",
            "ticket",
            "tickets",
            "grievance",
            "escalation",
            "escalations",
        ),
    ),
    (
        "reward_bonds",
        (
            "loyalty",
            "points",
            "reward",
            "rewards",
            "redeem",
            "redemption",
            "redemptions",
            "cashback",
            "miles",
            "member",
            "membership",
        ),
    ),
    ("social_bonds", ("referral", "referrals", "referred", "refer", "friends", "community")),
    ("channel_friction", ("channel", "payment", "paperless", "autopay", "pay", "billing_method")),
    (
        "drifting_away",
        (
            "usage",
            "minutes",
            "mou",
            "login",
            "logins",
            "sessions",
            "visits",
            "activity",
            "active_days",
            "traffic",
            "data_usage",
            "calls_made",
        ),
    ),
    (
        "early_life",
        (
            "tenure",
            "months_in_service",
            "account_age",
            "seniority",
            "since",
            "lifetime",
            "signup",
            "joined",
        ),
    ),
    (
        "value_fixed",
        (
            "age",
            "gender",
            "sex",
            "income",
            "region",
            "state",
            "city",
            "zip",
            "area",
            "occupation",
            "marital",
            "credit",
            "senior",
            "education",
            "partner",
            "dependents",
            "children",
            "household",
            "homeownership",
            "prizm",
        ),
    ),
    (
        "price",
        (
            "price",
            "charge",
            "charges",
            "fee",
            "fees",
            "tariff",
            "bill",
            "cost",
            "revenue",
            "revenues",
            "spend",
            "arpu",
            "discount",
        ),
    ),
    ("service_bonds", ("support", "security", "protection", "backup", "insurance", "warranty")),
    (
        "structural_bonds",
        (
            "contract",
            "product",
            "products",
            "service",
            "services",
            "subscription",
            "subscriptions",
            "plan",
            "bundle",
            "lines",
            "subs",
            "addon",
            "addons",
        ),
    ),
]
UNASSIGNED = "unassigned"
ACTIONABLE_FAMILIES = {f for f in DRIVER_FAMILIES if f not in NOT_ACTIONABLE}


def name_words(name: str) -> list[str]:
    """`MonthlyCharges` -> [monthly, charges]; `cust_ID2` -> [cust, id, 2]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", name))
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+|(?<=[A-Za-z])(?=\d)", spaced) if w]


def driver_family_of(name: str) -> str:
    """The churn cause a column speaks to, from the words in its name; else `unassigned`."""
    words = name_words(name)
    joined = "_".join(words)
    for family, vocabulary in FAMILY_WORDS:
        for word in vocabulary:
            if word in words or ("_" in word and word in joined):
                return family
    return UNASSIGNED


def looks_like_id(name: str) -> bool:
    words = name_words(name)
    return bool(words) and (words[-1] in ID_WORDS or "".join(words) in {"customerid", "clientid"})


def annualising_multiplier(name: str) -> float:
    words = set(name_words(name))
    if words & {"monthly", "month", "mo"}:
        return 12.0
    if words & {"weekly", "week"}:
        return 52.0
    return 1.0


def describe(name: str) -> str:
    return " ".join(name_words(name)) or name


def normal_label(value: str) -> str:
    """Label values compared as numbers where they are numbers (1 == 1.0), else as lower text."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text.lower()
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return repr(number)


def is_word(text: str) -> bool:
    """'Unknown', 'n.a.', '-': a word standing for 'not known'; '12abc' is a bad value instead."""
    return not any(c.isdigit() for c in str(text))


def missing_mask(column: pd.Series, tokens) -> pd.Series:
    """Null, or text that is one of the missing tokens once stripped."""
    text = column.astype(str).str.strip()
    return column.isna() | text.isin(set(tokens))
