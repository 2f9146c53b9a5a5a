"""Which column of a customer table is what the customer is worth: judged by its name and by
its values, every candidate said out loud.

A value column must read like money paid (revenue, charges, bill, spend, fee, payment, ARPU, or a
column named for the customer's value) and look like money: numbers, almost never negative, not a
band of a dozen small whole numbers, not a duration or a count (hours, minutes, days, calls,
logins). Charge columns that make up one bill (`Total day charge`, `Total eve charge`, ...: the
same name but for one word that is not a period) are summed. With no candidate, value is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from churn.snapshot.numbers import parse_numbers
from churn.snapshot.vocabulary import (
    annualising_multiplier,
    missing_mask,
    name_words,
)

MONEY_WORDS = {
    "revenue": 3, "revenues": 3, "spend": 3, "spending": 3, "spent": 3, "arpu": 3, "sales": 2,
    "charges": 2, "charge": 2, "bill": 2, "billed": 2, "billing": 2, "fee": 2, "fees": 2,
    "payment": 2, "payments": 2, "paid": 2, "amount": 1,
}  # fmt: skip
VALUE_NAMES = ({"customer", "value"}, {"clv"}, {"ltv"}, {"lifetime", "value"})  # the worth itself
NAMED_VALUE_SCORE = 4
# a share or a change of money is not money; a duration or a count is not money either ("day"
# alone is a time of day, as in `Total day charge`)
NOT_MONEY_WORDS = {"perc", "pct", "percent", "change", "ratio", "share", "overage", "adjustment"}
DURATION_OR_COUNT = {
    "hour", "hours", "hr", "hrs", "minute", "minutes", "mins", "second", "seconds", "secs", "days",
    "calls", "login", "logins", "count", "number", "num", "visits", "times", "frequency", "freq",
    "quantity", "qty", "duration", "units", "messages", "sms",
}  # fmt: skip
PERIOD_WORDS = {
    "monthly", "month", "mo", "annual", "yearly", "year", "weekly", "week", "total", "avg",
    "average", "mean", "max", "min", "last", "first", "current",
}  # fmt: skip
BAND_MAX_DISTINCT = 12  # whole numbers with this few values, all small, are a band or a grade
BAND_MAX_VALUE = 20
MAX_NEGATIVE_SHARE = 0.05  # refunds and credits happen; a signed score is not money


def name_score(name: str) -> tuple[int, str]:
    """How much a name reads like money paid (0: not at all), and why not when it does not."""
    words = set(name_words(name))
    if any(wanted <= words for wanted in VALUE_NAMES):
        return NAMED_VALUE_SCORE, ""
    money = max((MONEY_WORDS.get(w, 0) for w in words), default=0)
    if not money:
        return 0, "not named like money paid"
    if words & NOT_MONEY_WORDS:
        return 0, f"a share or change of money ({', '.join(sorted(words & NOT_MONEY_WORDS))})"
    if words & DURATION_OR_COUNT:
        return 0, f"a duration or a count ({', '.join(sorted(words & DURATION_OR_COUNT))})"
    # a monthly or yearly amount is the clearest; a total may be a running total since signup
    periodic = 2 if words & {"monthly", "month", "annual", "yearly", "weekly"} else 0
    return money + periodic - (1 if "total" in words else 0), ""


def values_refusal(column: pd.Series, tokens: Sequence[str], fmt=None) -> str | None:
    """Why a column's values are not money (None when they could be)."""
    present = column[~missing_mask(column, tokens)].astype(str).str.strip()
    numbers = parse_numbers(present, fmt)
    numbers = numbers[np.isfinite(numbers)]
    if len(numbers) == 0 or len(numbers) < 0.5 * max(len(present), 1):
        return "not numbers"
    whole = bool((numbers == numbers.round()).all())
    distinct = numbers.nunique()
    if whole and distinct <= BAND_MAX_DISTINCT and numbers.abs().max() <= BAND_MAX_VALUE:
        return f"a band of {distinct} small whole numbers ({numbers.min():g} to {numbers.max():g})"
    if (numbers < 0).mean() > MAX_NEGATIVE_SHARE:
        return f"{(numbers < 0).mean():.0%} negative"
    if numbers.max() <= 0:
        return "never positive"
    return None


def bill_parts(names: Sequence[str]) -> list[str]:
    """The largest set of names that are one name but for one word that is not a period
    (`Total day charge`, `Total eve charge`): the parts of one bill."""
    split = {n: name_words(n) for n in names}
    best: list[str] = []
    for words in split.values():
        for slot in range(len(words)):
            if words[slot] in PERIOD_WORDS or words[slot] in MONEY_WORDS:
                continue
            same = [
                other
                for other, w in split.items()
                if len(w) == len(words)
                and w[slot] not in PERIOD_WORDS
                and all(a == b for i, (a, b) in enumerate(zip(w, words, strict=True)) if i != slot)
            ]
            if len(same) > len(best):
                best = same
    return best if len(best) >= 2 else []


def choose_value(
    frame: pd.DataFrame,
    features: Mapping[str, Mapping],
    tokens: Sequence[str],
    lines: list[str],
    fmt: Mapping | None = None,
) -> dict | None:
    """The value column (or the columns of one bill), each candidate taken or refused with its
    reason as a line of the inference log."""
    candidates: dict[str, int] = {}
    for name, spec in features.items():
        score, why = name_score(name)
        if not score:
            if why != "not named like money paid":
                lines.append(f"value: {name} refused ({why})")
            continue
        if spec["kind"] != "numeric":
            lines.append(f"value: {name} refused (not numbers)")
            continue
        refused = values_refusal(frame[name], tokens, fmt)
        if refused:
            lines.append(f"value: {name} refused ({refused})")
            continue
        candidates[name] = score
    if not candidates:
        lines.append(
            "value: no column reads and looks like money paid; value is unknown (set "
            "data.snapshot.value.column, or value.columns for a bill in parts)"
        )
        return None
    parts = bill_parts(list(candidates))
    best = max(candidates, key=candidates.get)  # the first of equals, in the table's order
    if parts and max(candidates[p] for p in parts) >= candidates[best]:
        multiplier = annualising_multiplier(parts[0])
        lines.append(
            f"value: {' + '.join(parts)} x {multiplier:g} a year (the parts of one bill, summed)"
        )
        others = [n for n in candidates if n not in parts]
        for name in others:
            lines.append(f"value: {name} not taken (the bill's parts read more like money paid)")
        return {"columns": parts, "multiplier": multiplier}
    multiplier = annualising_multiplier(best)
    lines.append(f"value: {best} x {multiplier:g} a year (reads and looks like money paid)")
    for name in candidates:
        if name != best:
            lines.append(f"value: {name} not taken ({best} reads more like money paid)")
    return {"column": best, "multiplier": multiplier}


def value_columns(value: Mapping | None) -> list[str]:
    """The columns a value spec reads: one, or the parts of one bill."""
    if not value:
        return []
    return list(value.get("columns") or [value["column"]])
