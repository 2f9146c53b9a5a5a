"""The value backtest: CLV forecast at a cutoff whose value window has closed, against the margin
customers really brought in it, beside two baselines fitted in the same run.

The churn model behind the forecast is fitted and calibrated only on cutoffs whose churn labels
had closed by the backtest cutoff, so nothing after it is seen. Baselines: today's value
(trailing 12-month margin, scaled to the horizon) and, for purchase logs, BG/NBD + Gamma-Gamma.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd

from churn.columns import VALUE_COLUMN
from churn.dataset.labels import FUTURE_VALUE, value_window_end
from churn.training.backtest import calibrate, closed_before
from churn.training.pipeline import build_pipeline
from churn.value import purchases
from churn.value.clv import ValueOptions, lifetime_value
from churn.value.metrics import value_metrics

log = logging.getLogger(__name__)


def backtest_cutoff(frame: pd.DataFrame) -> dt.date | None:
    """The latest cutoff whose value window has closed."""
    closed = frame.loc[frame[FUTURE_VALUE].notna(), "cutoff"] if FUTURE_VALUE in frame else []
    return max(closed) if len(closed) else None


def fit_churn_before(data, cfg: Mapping, at: dt.date):
    """A calibrated churn model from cutoffs whose churn labels had closed by `at`: fitted on
    all but the latest of them, calibrated on the latest."""
    cutoffs = sorted(c for c in data.frame["cutoff"].unique() if c <= at)
    usable = closed_before(cutoffs, at, int(cfg["labels"]["horizon_days"]))
    if len(usable) < 2:
        return None
    frame, target = data.frame, "churn"
    fit = frame[frame["cutoff"].isin(set(usable[:-1]))]
    cal = frame[frame["cutoff"] == usable[-1]]
    if fit[target].nunique() < 2 or cal[target].nunique() < 2:
        return None
    pipe = build_pipeline(cfg["model"], data.numeric, data.categorical)
    pipe.fit(fit[data.features], fit[target].astype(int))
    method = cfg["split"]["calibration"]
    return calibrate(pipe, cal[data.features], cal[target].astype(int).to_numpy(), method)


def forecast_margin(model, data, rows: pd.DataFrame, opts: ValueOptions) -> np.ndarray:
    """Undiscounted CLV forecast over the horizon: comparable with the realized margin."""
    p = model.predict_proba(rows[data.features])[:, 1]
    return lifetime_value(p, rows[VALUE_COLUMN].to_numpy(), opts, discounted=False)


def measured_level(forecast: np.ndarray, realized: np.ndarray) -> float:
    """Realized over forecast margin, in total: the level CLV is scaled by."""
    total = float(np.sum(forecast))
    return float(np.sum(realized)) / total if total > 0 else 1.0


def earlier_level(model, data, at: dt.date, opts: ValueOptions) -> float | None:
    """The level measured at the latest cutoff whose value window had closed by `at` (the
    same model; nothing after `at` is read): to check a level out of time."""
    frame = data.frame
    closed = [
        c
        for c in frame["cutoff"].unique()
        if value_window_end(c, opts.horizon_months) <= at
        and frame.loc[frame["cutoff"] == c, FUTURE_VALUE].notna().any()
    ]
    if not closed:
        return None
    rows = frame[frame["cutoff"] == max(closed)]
    realized = opts.margin_rate * rows[FUTURE_VALUE].to_numpy(dtype=float)
    return measured_level(forecast_margin(model, data, rows, opts), realized)


def value_backtest(data, cfg: Mapping) -> tuple[dict[str, float], dict[str, Any]]:
    """Metrics (`value_*`) and details (with the measured `level`); empty metrics, with the
    reason, when it cannot run."""
    at = backtest_cutoff(data.frame)
    if at is None:
        return {}, {"skipped": "no cutoff's value window has closed (labels.value_horizon_months)"}
    model = fit_churn_before(data, cfg, at)
    if model is None:
        return {}, {"skipped": f"too few cutoffs with closed churn labels before {at}"}
    opts = ValueOptions.from_config(cfg)
    rows = data.frame[data.frame["cutoff"] == at].reset_index(drop=True)
    realized = opts.margin_rate * rows[FUTURE_VALUE].to_numpy(dtype=float)
    ours = forecast_margin(model, data, rows, opts)
    forecasts = {
        "": ours,
        "_trailing": opts.margin_rate
        * np.nan_to_num(rows[VALUE_COLUMN].to_numpy(dtype=float))
        * opts.horizon_months
        / 12,
    }
    if cfg["labels"]["definition"] == "behavioural" and purchases.can_fit(rows):
        forecasts["_bgnbd_gg"] = purchases.bgnbd_gg_value(rows, opts)  # a purchase log
    metrics = {}
    for suffix, predicted in forecasts.items():
        for name, value in value_metrics(predicted, realized).items():
            metrics[f"value_{name}{suffix}"] = value
    level = measured_level(ours, realized)
    metrics["value_level"] = level
    earlier = earlier_level(model, data, at, opts)
    if earlier is not None:  # the level as production uses it: measured a window earlier
        metrics["value_aggregate_error_leveled"] = earlier * ours.sum() / realized.sum() - 1
    details = {
        "deciles": forecast_deciles(ours * level, forecasts["_trailing"], realized),
        "cutoff": str(at),
        "horizon_months": opts.horizon_months,
        "customers": int(len(rows)),
        "realized_margin_total": float(realized.sum()),
        "forecasts": {k or "clv": float(v.sum()) for k, v in forecasts.items()},
        **metrics,
    }
    log.info(
        "value backtest at %s (%s customers, %d months): CLV spearman %.3f, top-20%% capture "
        "%.3f, aggregate error %+.3f (level %.3f); today's value %.3f / %.3f",
        at,
        f"{len(rows):,}",
        opts.horizon_months,
        metrics["value_spearman"],
        metrics["value_top20_capture"],
        metrics["value_aggregate_error"],
        level,
        metrics["value_spearman_trailing"],
        metrics["value_top20_capture_trailing"],
    )
    return metrics, details


def forecast_deciles(forecast, trailing, realized) -> list[dict[str, float]]:
    """Mean leveled forecast, today's value and realized margin per decile of the forecast,
    highest first: the report's picture of predicted against realized value."""
    frame = pd.DataFrame({"forecast": forecast, "trailing": trailing, "realized": realized})
    ranks = frame["forecast"].rank(method="first", ascending=False)
    frame["decile"] = np.ceil(10 * ranks / len(frame)).astype(int)
    means = frame.groupby("decile").mean()
    return [
        {"decile": int(d), **{k: float(v) for k, v in row.items()}} for d, row in means.iterrows()
    ]


def fit_clv_tiers(model, data, cfg: Mapping, level: float = 1.0) -> dict | None:
    """CLV's options and its value tiers (quantiles at the latest training cutoff), stored with
    the model: scoring values customers as training did, and a tier means the same money every
    week."""
    from churn.features.value import ValueTiers

    rows = data.frame[data.frame["cutoff"] == data.frame["cutoff"].max()]
    if VALUE_COLUMN not in rows or rows[VALUE_COLUMN].isna().all():
        return None
    opts = replace(ValueOptions.from_config(cfg), level=level)
    p = model.predict_proba(rows[data.features])[:, 1]
    clv = lifetime_value(p, rows[VALUE_COLUMN].to_numpy(), opts)
    tiers = ValueTiers(tuple(cfg["value"]["tier_quantiles"])).fit(clv.reshape(-1, 1))
    return {"options": asdict(opts), "tiers": tiers.to_dict()}


def value_for_training(model, data, cfg: Mapping) -> tuple[dict, dict]:
    """The value backtest's metrics and, in the details, the CLV tiers to store with the model."""
    metrics, details = value_backtest(data, cfg)
    details["clv"] = fit_clv_tiers(model, data, cfg, metrics.get("value_level", 1.0))
    return metrics, details
