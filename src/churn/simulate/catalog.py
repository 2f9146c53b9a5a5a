"""The demo CRM world's fixed parameters; its vocabulary is the contracts' (`churn.vocabulary`)."""

from __future__ import annotations

import numpy as np

from churn.vocabulary import (  # noqa: F401  (the simulator reads them all as C.<NAME>)
    ACQUISITION_CHANNELS,
    CAMPAIGN_CHANNELS,
    CHANGE_REASONS,
    COMPLAINT_CATEGORIES,
    INTERACTION_CHANNELS,
    INTERACTION_KINDS,
    OFFER_TYPES,
    PLANS,
    POINT_KINDS,
    PRODUCTS,
    REGIONS,
    SALES_CHANNELS,
    SEGMENTS,
)

BASE_FEE = np.array([25.0, 40.0, 30.0, 8.0, 12.0])  # per product, in PRODUCTS order
PLAN_FEE_MULT = np.array([1.0, 1.45, 2.0])
# east has the worst network: more complaints, hence indirectly more churn
REGION_COMPLAINT_MULT = np.array([1.0, 1.0, 1.8, 1.0, 0.8])

NO_DAY = np.iinfo(np.int32).max  # an open end date / never happened
