"""The fixed vocabulary of the demo CRM world: products, plans, channels, regions."""

from __future__ import annotations

import numpy as np

PRODUCTS = ("mobile", "broadband", "tv", "cloud_storage", "insurance")
BASE_FEE = np.array([25.0, 40.0, 30.0, 8.0, 12.0])
PLANS = ("basic", "standard", "premium")
PLAN_FEE_MULT = np.array([1.0, 1.45, 2.0])
SEGMENTS = ("consumer", "business")
REGIONS = ("north", "south", "east", "west", "central")
# east has the worst network: more complaints, hence indirectly more churn
REGION_COMPLAINT_MULT = np.array([1.0, 1.0, 1.8, 1.0, 0.8])
ACQUISITION_CHANNELS = ("web", "store", "phone", "partner", "referral")
SALES_CHANNELS = ("store", "web", "app", "phone")
INTERACTION_CHANNELS = ("store", "web", "app", "phone", "email")
INTERACTION_KINDS = ("login", "visit", "service_call", "email_open")
COMPLAINT_CATEGORIES = ("billing", "network", "service", "product", "delivery")
OFFER_TYPES = ("cross_sell", "upsell", "retention", "loyalty")
CAMPAIGN_CHANNELS = ("email", "sms", "phone", "app", "mail")
POINT_KINDS = ("earn", "redeem")
CHANGE_REASONS = ("new", "upgrade", "price_change")

NO_DAY = np.iinfo(np.int32).max  # an open end date / never happened
