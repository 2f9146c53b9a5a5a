"""The CRM vocabulary: the values the warehouse contracts accept for the enumerated columns, and
the values the demo simulator draws from, and the driver families that name why customers
leave. Said once, so the two can never disagree."""

from __future__ import annotations

PRODUCTS = ("mobile", "broadband", "tv", "cloud_storage", "insurance")
PLANS = ("basic", "standard", "premium")
SEGMENTS = ("consumer", "business")
REGIONS = ("north", "south", "east", "west", "central")
ACQUISITION_CHANNELS = ("web", "store", "phone", "partner", "referral")
SALES_CHANNELS = ("store", "web", "app", "phone")
INTERACTION_CHANNELS = ("store", "web", "app", "phone", "email")
INTERACTION_KINDS = ("login", "visit", "service_call", "email_open")
COMPLAINT_CATEGORIES = ("billing", "network", "service", "product", "delivery")
OFFER_TYPES = ("cross_sell", "upsell", "retention", "loyalty")
CAMPAIGN_CHANNELS = ("email", "sms", "phone", "app", "mail")
TEST_ARMS = ("call", "control")  # campaigns.treatment_group: who was called, who held out
POINT_KINDS = ("earn", "redeem")
CHANGE_REASONS = ("new", "upgrade", "price_change")
# surveys: what was asked and on which scale (NPS 0-10, CSAT 1-5); a null score is a survey sent
# and never answered
SURVEY_TYPES = ("relationship", "after_complaint", "after_purchase")
SURVEY_SCALES = {"nps": (0.0, 10.0), "csat": (1.0, 5.0)}  # scale -> (lowest, highest) score

# Driver families: the churn causes a retention manager recognises (features declare one each,
# explanations and reason codes sum SHAP values into them).
DRIVER_FAMILIES: dict[str, str] = {
    "complaints": "complaints not followed up",
    "dissatisfaction": "dissatisfaction (what the customer said in surveys)",
    "competition": "a competitor's pull (offers, port-out requests, calls to the retention line)",
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
