"""Value segments, managed differently: high-performance customers are kept at all costs,
high-potential ones developed with cross-sell and upsell, below-zero ones cost more to serve
than their margin brings; the rest are the core."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

SEGMENTS = ("high_performance", "high_potential", "below_zero", "core")


def value_segments(
    net_value: np.ndarray,
    clv_tier: np.ndarray,
    growth: np.ndarray,
    rules: Mapping,
) -> np.ndarray:
    """One segment per customer; the first rule that holds wins, in this order:
    below_zero (net value under 0), high_performance (a CLV tier in
    `value.segments.high_performance_tiers`), high_potential (cross-sell or upsell propensity at
    least `value.segments.high_potential_propensity`), else core."""
    net_value = np.asarray(net_value, dtype=float)
    top_tiers = list(rules.get("high_performance_tiers") or [])
    bar = rules.get("high_potential_propensity")
    growth = np.nan_to_num(np.asarray(growth, dtype=float), nan=-np.inf)
    potential = growth >= bar if bar is not None else np.zeros(len(net_value), dtype=bool)
    return np.select(
        [net_value < 0, np.isin(np.asarray(clv_tier, dtype=object), top_tiers), potential],
        ["below_zero", "high_performance", "high_potential"],
        default="core",
    ).astype(object)
