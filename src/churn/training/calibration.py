"""Which map from score to probability: one that keeps the ranking, unless isotonic earns its ties.

Isotonic regression is a step function: customers in one step share a probability, and ties
lower ROC-AUC. A sigmoid (Platt) map is strictly increasing, so it keeps the model's ranking. With
`auto`, both are measured out of fold (each fold's scores mapped by a calibrator fitted without
them) and isotonic is chosen only when its Brier score is lower and its ROC-AUC is not; both
figures are logged and kept, so the cost of isotonic is known on every table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

log = logging.getLogger(__name__)
METHODS = ("sigmoid", "isotonic")


def compare_methods(
    pairs: Iterable[tuple[np.ndarray, np.ndarray]], where: str
) -> tuple[str, dict[str, dict[str, float]]]:
    """`pairs` yields, per fold, (y, {method: calibrated probability}); the method chosen and
    each method's mean ROC-AUC and Brier score over the folds."""
    scores: dict[str, dict[str, list[float]]] = {m: {"roc_auc": [], "brier": []} for m in METHODS}
    for y, by_method in pairs:
        for method, p in by_method.items():
            scores[method]["roc_auc"].append(float(roc_auc_score(y, p)))
            scores[method]["brier"].append(float(brier_score_loss(y, p)))
    means = {m: {k: float(np.mean(v)) for k, v in s.items()} for m, s in scores.items()}
    iso, sig = means["isotonic"], means["sigmoid"]
    chosen = (
        "isotonic"
        if iso["brier"] < sig["brier"] and iso["roc_auc"] >= sig["roc_auc"]
        else "sigmoid"
    )
    log.info(
        "calibration out of fold (%s): sigmoid roc_auc %.4f brier %.4f; isotonic roc_auc %.4f "
        "brier %.4f (isotonic costs %.4f roc_auc): %s",
        where,
        sig["roc_auc"],
        sig["brier"],
        iso["roc_auc"],
        iso["brier"],
        sig["roc_auc"] - iso["roc_auc"],
        chosen,
    )
    return chosen, means


def resolve_method(setting: str, measure: Callable[[], tuple[str, dict]]) -> tuple[str, dict]:
    """The configured method, or under `auto` the one the out-of-fold comparison picks."""
    return measure() if setting == "auto" else (setting, {})


def calibration_metrics(calibration: dict) -> dict[str, float]:
    """Flat figures for MLflow: each method's out-of-fold ROC-AUC and Brier score."""
    out = {}
    for method, figures in (calibration.get("measured") or {}).items():
        for key, value in figures.items():
            out[f"calibration_{method}_{key}"] = value
    if calibration.get("method"):
        out["calibration_isotonic"] = float(calibration["method"] == "isotonic")
    return out
