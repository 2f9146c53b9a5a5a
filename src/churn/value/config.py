"""The `value` config group's schema (CLV's economics), a leaf every config can name."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CostToServe:
    per_complaint: float = 15.0
    per_contact: float = 1.0


@dataclass
class ValueSegments:
    high_performance_tiers: list[str] = field(default_factory=lambda: ["Platinum", "Gold"])
    high_potential_propensity: float | None = 0.15


@dataclass
class ValueConfig:
    """CLV's economics; the horizon is labels.value_horizon_months (future_value's window)."""

    discount_rate: float = 0.1
    margin_rate: float = 0.3
    cost_to_serve: CostToServe = field(default_factory=CostToServe)
    tier_quantiles: list[float] = field(default_factory=lambda: [0.3, 0.8, 0.95])
    segments: ValueSegments = field(default_factory=ValueSegments)
