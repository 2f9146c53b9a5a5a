"""CLV for purchase logs without contracts: BG/NBD for how many purchases a buyer will make
(Fader, Hardie & Lee 2005) and Gamma-Gamma for what each will be worth (Fader, Hardie & Lee
2005b), both from `lifetimes`, fitted on the RFM(T) the point-in-time features already hold.
The baseline our own CLV is measured against, fitted in the same run on the same cutoff."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn.value.bgnbd import WEEK, fit_bgnbd, rfmt_summary
from churn.value.clv import MONTH_DAYS, ValueOptions

NEEDS = ("purchase_days", "first_purchase_days", "recency_days", "avg_basket_365d")


def can_fit(frame: pd.DataFrame) -> bool:
    """The RFM(T) and basket features come from a transactions table."""
    return all(c in frame for c in NEEDS)


def fit_gamma_gamma(frequency: np.ndarray, monetary: np.ndarray, penalizer: float = 0.0):
    """Gamma-Gamma on repeat buyers with a known basket (its own fitting population)."""
    from lifetimes import GammaGammaFitter

    keep = (frequency > 0) & (monetary > 0)
    model = GammaGammaFitter(penalizer_coef=penalizer)
    model.fit(frequency[keep], monetary[keep])
    return model


def bgnbd_gg_value(frame: pd.DataFrame, opts: ValueOptions, discounted: bool = False):
    """Expected margin over the horizon per buyer: BG/NBD purchases x Gamma-Gamma spend x
    margin. A buyer without a basket in the last year gets Gamma-Gamma's population mean; a
    customer who never bought, nothing (the models describe buyers)."""
    buyers = frame["first_purchase_days"].notna() & (frame["purchase_days"] > 0)
    out = np.zeros(len(frame))
    out[buyers.to_numpy()] = buyer_value(frame[buyers], opts, discounted)
    return out


def buyer_value(frame: pd.DataFrame, opts: ValueOptions, discounted: bool) -> np.ndarray:
    summary = rfmt_summary(frame)
    bgnbd = fit_bgnbd(summary, penalizer=0.001)
    frequency = summary["frequency"].to_numpy()
    basket = np.nan_to_num(frame["avg_basket_365d"].to_numpy(dtype=float))
    gamma = fit_gamma_gamma(frequency, basket, penalizer=0.001)
    spend = np.asarray(
        gamma.conditional_expected_average_profit(
            pd.Series(np.where(basket > 0, frequency, 0.0)), pd.Series(basket)
        ),
        dtype=float,
    )
    monthly_discount = (1 + opts.discount_rate) ** (-1 / 12) if discounted else 1.0
    purchases, before = np.zeros(len(frame)), np.zeros(len(frame))
    for month in range(1, opts.horizon_months + 1):  # as lifetimes' own CLV, month by month
        so_far = np.asarray(
            bgnbd.conditional_expected_number_of_purchases_up_to_time(
                month * MONTH_DAYS / WEEK, summary["frequency"], summary["recency"], summary["T"]
            ),
            dtype=float,
        )
        purchases += (so_far - before) * monthly_discount**month
        before = so_far
    return opts.margin_rate * spend * purchases
