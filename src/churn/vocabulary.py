"""The CRM vocabulary: the values the warehouse contracts accept for the enumerated columns, and
the values the demo simulator draws from. Said once, so the two can never disagree."""

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
