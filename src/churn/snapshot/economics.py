"""What a customer is worth and what a call costs, in the units of the user's own table.

The value column reads and looks like what a customer pays (churn.snapshot.money: annualised when
it is monthly, the parts of one bill summed); with none, value stays unknown rather than
invented. Risk bands sit at the base rate and twice it, and contact costs are shares of the
median yearly value, so the profit curve means something in any currency. Each choice is one
line of the inference log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from churn.snapshot.money import choose_value, value_columns
from churn.snapshot.numbers import parse_numbers
from churn.snapshot.vocabulary import missing_mask

COST_SHARES = {"contact_cost": 0.01, "incentive_cost": 0.04}  # of the median annual value


def infer_value(
    frame, declared: Mapping, features: Mapping, tokens, lines, fmt=None
) -> dict | None:
    """The declared value (a column, a bill's parts, or none), else the inferred one."""
    said = declared.get("value")
    if said in (False, "none") or (isinstance(said, Mapping) and said.get("column") == "none"):
        lines.append("value: none (declared); the report says value is unknown")
        return None
    if isinstance(said, Mapping) and (said.get("column") or said.get("columns")):
        value = {k: v for k, v in said.items() if v is not None}
        value["multiplier"] = float(value.get("multiplier", 1.0))
        named = " + ".join(value_columns(value))
        lines.append(f"value: {named} x {value['multiplier']:g} (declared)")
        return value
    return choose_value(frame, features, tokens, lines, fmt)


def economics(frame, value: Mapping | None, tokens, base_rate: float, lines, fmt=None) -> dict:
    """Risk bands at 1x and 2x the base rate; contact costs as shares of the median value."""
    upper = min(2 * base_rate, (1 + base_rate) / 2)
    out: dict[str, Any] = {"risk_edges": [round(base_rate, 4), round(upper, 4)], "costs": None}
    lines.append(
        f"risk bands: low below {base_rate:.1%} (the base rate), medium from it, high from "
        f"{upper:.1%} (data.risk.edges to change)"
    )
    if value:
        numbers = sum(
            parse_numbers(
                frame[name].where(~missing_mask(frame[name], tokens)).astype(str).str.strip(), fmt
            )
            for name in value_columns(value)
        )
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
