"""Did the calls work? Pure functions on one scored list joined with what happened.

The control group is a random draw from the same ranking as the called customers, so the
difference of their churn rates is the call's average effect on the customers it reached.
Calibration and ROC-AUC are read on the customers nobody called (control and the rest of the
base), whose churn the model predicted without a call changing it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churn.columns import TREATMENT

CALL, CONTROL, NONE = TREATMENT
LEVEL = 0.95


def arm_table(rows: pd.DataFrame) -> list[dict]:
    """Per treatment group: customers, churners, realized and predicted churn, mean CLV."""
    out = []
    for arm in TREATMENT:
        part = rows[rows["treatment_group"] == arm]
        out.append(
            {
                "treatment_group": arm,
                "customers": int(len(part)),
                "churned": int(part["churned"].sum()),
                "churn_rate": float(part["churned"].mean()) if len(part) else None,
                "predicted_churn": float(part["churn_probability"].mean()) if len(part) else None,
                "mean_clv": float(part["clv"].mean()) if len(part) else None,
            }
        )
    return out


def bootstrap_gap(
    control: np.ndarray, called: np.ndarray, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """mean(control) - mean(called) with a percentile bootstrap interval, each arm resampled
    on its own (they are independent draws)."""
    gap = float(control.mean() - called.mean())
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    for b in range(n_boot):
        draws[b] = (
            control[rng.integers(0, control.size, control.size)].mean()
            - called[rng.integers(0, called.size, called.size)].mean()
        )
    low, high = np.quantile(draws, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return gap, float(low), float(high)


def call_effect(rows: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> dict:
    """Churn saved per called customer (control rate minus call rate) with its 95% interval,
    and the same for value: CLV lost to churn per customer, control minus called."""
    called = rows[rows["treatment_group"] == CALL]
    control = rows[rows["treatment_group"] == CONTROL]
    if called.empty or control.empty:
        return {"measured": False, "why": "no call group or no control group in this list"}
    churn = [g["churned"].to_numpy(float) for g in (control, called)]
    lost = [(g["churned"] * g["clv"].fillna(0.0)).to_numpy(float) for g in (control, called)]
    lift, low, high = bootstrap_gap(*churn, n_boot=n_boot, seed=seed)
    value, v_low, v_high = bootstrap_gap(*lost, n_boot=n_boot, seed=seed + 1)
    n = len(called)
    return {
        "measured": True,
        "level": LEVEL,
        "churn_reduction": lift,
        "churn_reduction_ci": [low, high],
        "saved_customers": lift * n,
        "saved_customers_ci": [low * n, high * n],
        "saved_value": value * n,
        "saved_value_ci": [v_low * n, v_high * n],
        "significant": bool(low > 0 or high < 0),
        "called": n,
        "control": int(len(control)),
    }


def calibration(rows: pd.DataFrame, band_order: list[str]) -> list[dict]:
    """Predicted against realized churn by risk band, on the customers nobody called."""
    uncalled = rows[rows["treatment_group"] != CALL]
    out = []
    for band in band_order:
        part = uncalled[uncalled["risk_band"] == band]
        if part.empty:
            continue
        out.append(
            {
                "risk_band": band,
                "customers": int(len(part)),
                "predicted": float(part["churn_probability"].mean()),
                "realized": float(part["churned"].mean()),
            }
        )
    return out


def production_auc(rows: pd.DataFrame) -> float | None:
    """ROC-AUC of the published risk on the realized labels of the customers nobody called."""
    uncalled = rows[rows["treatment_group"] != CALL]
    y = uncalled["churned"].to_numpy(int)
    if np.unique(y).size < 2:
        return None
    return float(roc_auc_score(y, uncalled["churn_probability"].to_numpy(float)))


def measure_list(rows: pd.DataFrame, band_order: list[str], backtest: Mapping) -> dict:
    """Everything `churn outcomes` says about one published list whose label window closed."""
    auc = production_auc(rows)
    uncalled = rows[rows["treatment_group"] != CALL]
    return {
        "customers": int(len(rows)),
        "arms": arm_table(rows),
        "effect": call_effect(rows),
        "calibration": calibration(rows, band_order),
        "model": {
            "roc_auc": auc,
            "backtest_roc_auc": backtest.get("roc_auc"),
            "roc_auc_gap": None
            if auc is None or backtest.get("roc_auc") is None
            else auc - backtest["roc_auc"],
            "predicted_churn": float(uncalled["churn_probability"].mean()),
            "realized_churn": float(uncalled["churned"].mean()),
        },
    }


def flat_metrics(result: Mapping) -> dict[str, float]:
    """The figures worth a line in MLflow, named outcome_*."""
    out = {"outcome_customers": float(result["customers"])}
    effect = result["effect"]
    if effect.get("measured"):
        out.update(
            outcome_churn_reduction=effect["churn_reduction"],
            outcome_churn_reduction_ci_low=effect["churn_reduction_ci"][0],
            outcome_churn_reduction_ci_high=effect["churn_reduction_ci"][1],
            outcome_saved_customers=effect["saved_customers"],
            outcome_saved_value=effect["saved_value"],
        )
    model = result["model"]
    for key in ("roc_auc", "roc_auc_gap", "predicted_churn", "realized_churn"):
        if model.get(key) is not None:
            out[f"outcome_{key}"] = float(model[key])
    return out
