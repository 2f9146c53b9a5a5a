"""Driver families: the churn causes a retention manager recognises. One place, read everywhere."""

from __future__ import annotations

DRIVER_FAMILIES: dict[str, str] = {
    "complaints": "complaints not followed up",
    "drifting_away": "drifting away (falling usage)",
    "structural_bonds": "weak structural bonds (few products)",
    "reward_bonds": "no reward bonds",
    "social_bonds": "missing social bonds",
    "service_bonds": "weak service bonds (no support or security add-ons)",
    "channel_friction": "channel friction",
    "price": "price",
    "early_life": "early life",
    "value_fixed": "value and fixed traits",
    "unassigned": "not yet assigned to a driver family",
}
# never offered as a reason to act on: context, or a column nobody has placed yet
NOT_ACTIONABLE = ("early_life", "value_fixed", "unassigned")
