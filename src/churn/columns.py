"""Column facts every stage shares, said once: keys, the value column, tiers, treatment groups."""

from __future__ import annotations

KEY_COLUMNS = ("customer_id", "cutoff")
ARM_COLUMN = "test_arm"  # a randomized test's arm in a customer table (data.snapshot.treatment)
VALUE_COLUMN = "revenue_12m"  # trailing twelve months of revenue: what a customer is worth today
TIERS = ("Lead", "Iron", "Gold", "Platinum")  # low to high
TIER_ORDER = tuple(reversed(TIERS))  # as a retention team reads them: most valuable first
TREATMENT = ("call", "control", "none")
# money is summed in whole ten-thousandths: integer sums are exact in any order, so the same
# input gives the same bits however the warehouse splits the work across threads
MONEY_UNITS = 10_000
# the most one row may hold: a million such rows still sum exactly inside 64-bit integers
MAX_MONEY = 1e12
