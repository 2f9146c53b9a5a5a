"""BG/NBD (Fader, Hardie & Lee 2005), the purchase model of a non-contractual business: each
buyer's RFM(T) summary in weeks, and the fitted model. CLV reads expected purchases from it
(churn.value.purchases); training's published baseline ranks by P(alive) with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEK = 7.0


def rfmt_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """BG/NBD's inputs in weeks, from our point-in-time features at the cutoff.

    frequency: repeat purchase days; recency: age at the last purchase; T: age at the cutoff.
    """
    age_days = frame["first_purchase_days"].to_numpy(dtype=float)
    since_last = frame["recency_days"].to_numpy(dtype=float)
    frequency = frame["purchase_days"].to_numpy(dtype=float) - 1.0
    # purchases on one day at different hours are one purchase day: no repeat, recency 0
    recency = np.where(frequency > 0, np.clip(age_days - since_last, 0.0, age_days), 0.0)
    return pd.DataFrame(
        {"frequency": frequency, "recency": recency / WEEK, "T": age_days / WEEK},
        index=frame.index,
    )


def fit_bgnbd(summary: pd.DataFrame, penalizer: float = 0.0):
    """BetaGeoFitter on the calibration summary (buyers with at least one purchase)."""
    from lifetimes import BetaGeoFitter

    model = BetaGeoFitter(penalizer_coef=penalizer)
    model.fit(summary["frequency"], summary["recency"], summary["T"])
    return model
