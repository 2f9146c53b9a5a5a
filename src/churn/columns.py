"""Column facts every stage shares, said once: keys, the value column, tiers, treatment groups."""

from __future__ import annotations

KEY_COLUMNS = ("customer_id", "cutoff")
VALUE_COLUMN = "revenue_12m"  # trailing twelve months of revenue: what a customer is worth today
TIERS = ("Lead", "Iron", "Gold", "Platinum")  # low to high
TIER_ORDER = tuple(reversed(TIERS))  # as a retention team reads them: most valuable first
TREATMENT = ("call", "control", "none")
