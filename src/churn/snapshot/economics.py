"""What a customer is worth and what a call costs, in the units of the user's own table.

The value column is one named like what a customer pays (annualised when it is monthly); with
none, value stays unknown rather than invented. Risk bands sit at the base rate and twice it, and
contact costs are shares of the median yearly value, so the profit curve means something in any
currency. Each choice is one line of the inference log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from churn.snapshot.vocabulary import (
    annualising_multiplier,
    missing_mask,
    parse_numbers,
    value_score,
)

COST_SHARES = {"contact_cost": 0.01, "incentive_cost": 0.04}  # of the median annual value


def infer_value(frame, declared: Mapping, features: Mapping, tokens, lines) -> dict | None:
    if "value" in declared and declared["value"] in (None, False, "none"):
        lines.append("value: none (declared); the report says value is unknown")
        return None
    if declared.get("value"):
        value = {"multiplier": 1.0, **declared["value"]}
        lines.append(f"value: {value['column']} x {value['multiplier']:g} (declared)")
        return value
    scored = [(value_score(n), n) for n, s in features.items() if s["kind"] == "numeric"]
    scored = [(s, n) for s, n in scored if s > 0]
    if not scored:
        lines.append(
            "value: no column named like revenue, charges or spend; value is unknown (set "
            "data.snapshot.value.column to name one)"
        )
        return None
    _, name = max(scored, key=lambda item: item[0])
    multiplier = annualising_multiplier(name)
    lines.append(f"value: {name} x {multiplier:g} a year (named like what a customer pays)")
    return {"column": name, "multiplier": multiplier}


def economics(frame, value: Mapping | None, tokens, base_rate: float, lines) -> dict:
    """Risk bands at 1x and 2x the base rate; contact costs as shares of the median value."""
    upper = min(2 * base_rate, (1 + base_rate) / 2)
    out: dict[str, Any] = {"risk_edges": [round(base_rate, 4), round(upper, 4)], "costs": None}
    lines.append(
        f"risk bands: low below {base_rate:.1%} (the base rate), medium from it, high from "
        f"{upper:.1%} (data.risk.edges to change)"
    )
    if value:
        column = frame[value["column"]]
        numbers = parse_numbers(column[~missing_mask(column, tokens)].astype(str).str.strip())
        numbers = numbers[np.isfinite(numbers)] * float(value.get("multiplier", 1.0))
        median = float(numbers.median()) if len(numbers) else float("nan")
        if np.isfinite(median) and median > 0:
            out["costs"] = {k: round(share * median, 2) for k, share in COST_SHARES.items()}
            out["value_median"] = round(median, 2)
            lines.append(
                f"contact costs: {out['costs']['contact_cost']:g} a contact and "
                f"{out['costs']['incentive_cost']:g} an offer (1% and 4% of the median yearly "
                f"value {median:,.0f}; costs.* to change)"
            )
    return out
