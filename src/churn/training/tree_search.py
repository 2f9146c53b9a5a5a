"""A seeded, time-budgeted search over kinds of boosted trees, by inner cross-validation.

Real customer tables differ in how deep an interaction goes and in which library's trees suit
them, so `model.search` tries XGBoost, LightGBM and CatBoost in turn (the first trial of each at
the middle of its declared space, later ones drawn with the seed) until `budget_s` is spent. Each
trial is an inner stratified k-fold on the training rows it is given (never the test rows of the
fold it will be judged on; copies of one customer stay in one inner fold): every inner model stops
early on its validation fold, the validation ROC-AUC after each tree is averaged over the folds,
and the peak of that mean curve sets both the number of trees and the trial's score. Past
`max_rows` the search reads a stratified sample, and says so.

The best trial of each kind may then be blended (`churn.training.blend`): weights on the simplex
chosen by the inner out-of-fold ROC-AUC of the weighted log-odds; the blend is kept only when it
beats the best single model out of fold.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from churn.training.blend import blend_config
from churn.training.kinds import fit_with_curve, margin, mean_curve, with_trees
from churn.training.pipeline import build_preprocessor

log = logging.getLogger(__name__)


@dataclass
class SearchResult:
    """The estimator config to fit (one kind, or a blend of kinds) and every trial's figures."""

    estimator: dict[str, Any]
    inner_roc_auc: float
    trials: list[dict[str, Any]] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    rows: int = 0


def draw_params(space: Mapping[str, list], rng: np.random.Generator, first: bool) -> dict:
    """One point of a kind's space: its middle first (geometric for rates), then seeded draws;
    integer bounds give integers, real bounds are drawn log-uniformly."""
    params = {}
    for name, (low, high) in space.items():
        integer = isinstance(low, int) and isinstance(high, int)
        if integer:
            value = (low + high) // 2 if first else int(rng.integers(low, high + 1))
        else:
            logs = np.log([low, high])
            value = float(np.exp(logs.mean() if first else rng.uniform(*logs)))
            value = round(value, 4)
        params[name] = value
    return params


def inner_parts(y: np.ndarray, groups: np.ndarray | None, k: int, seed: int) -> list:
    """Inner folds, stratified, and grouped when some rows are copies of one another."""
    if groups is not None and len(np.unique(groups)) < len(groups):
        splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y, groups))
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def sample_rows(y: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """All rows, or a stratified sample of `limit` of them."""
    if len(y) <= limit:
        return np.arange(len(y))
    keep, _ = next(
        StratifiedKFold(
            n_splits=max(2, int(np.ceil(len(y) / limit))), shuffle=True, random_state=seed
        ).split(np.zeros(len(y)), y)
    )
    return np.sort(keep[:limit])


def encode_parts(X, y, parts, numeric, categorical) -> list[tuple]:
    """Each inner fold's rows encoded once (the encoder fitted on its training part only)."""
    encoded = []
    for fit, valid in parts:
        pre = build_preprocessor(numeric, categorical, "tree")
        fit_X = np.asarray(pre.fit_transform(X.iloc[fit], y[fit]), dtype=np.float32)
        valid_X = np.asarray(pre.transform(X.iloc[valid]), dtype=np.float32)
        encoded.append((fit_X, y[fit], valid_X, y[valid], valid))
    return encoded


def run_trial(estimator_cfg: Mapping, encoded: list[tuple], search: Mapping, n: int) -> dict:
    """One configuration over every inner fold: trees at the peak of the mean validation curve,
    the mean ROC-AUC there, and its out-of-fold log-odds (for the blend)."""
    fitted, curves, started, work = [], [], time.perf_counter(), 0
    for fit_X, fit_y, valid_X, valid_y, _ in encoded:
        estimator, curve = fit_with_curve(
            estimator_cfg,
            fit_X,
            fit_y,
            valid_X,
            valid_y,
            int(search["max_estimators"]),
            int(search["early_stopping_rounds"]),
        )
        fitted.append(estimator)
        curves.append(curve)
        work += len(fit_y) * len(curve)
    seconds = time.perf_counter() - started
    mean = mean_curve(curves)
    trees = int(np.argmax(mean)) + 1
    oof = np.full(n, np.nan)
    for estimator, (_, _, valid_X, _, valid) in zip(fitted, encoded, strict=True):
        oof[valid] = margin(estimator, valid_X, trees)
    return {
        "trees": trees,
        "inner_roc_auc": float(mean[trees - 1]),
        "oof": oof,
        "tree_row_s": seconds / max(work, 1),  # seconds per tree per training row, to plan fits
    }


def fold_auc(oof: np.ndarray, y: np.ndarray, encoded: list[tuple]) -> float:
    """Mean ROC-AUC over the inner folds (each fold's scores judged on their own)."""
    return float(np.mean([roc_auc_score(y[part[4]], oof[part[4]]) for part in encoded]))


def search_trees(
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray | None,
    numeric: list[str],
    categorical: list[str],
    search: Mapping,
    seed: int,
    advance: Callable[[], None] | None = None,
    plan: tuple[int, int] = (0, 0),
) -> SearchResult:
    """Trials in turn over the kinds until the budget is spent; the best of each kind, blended
    when the blend beats the best one out of fold. `plan` is (rows per later fit, number of later
    fits): what the choice will cost, measured by the trials, must fit `search.fit_budget_s`."""
    started = time.perf_counter()
    rows = sample_rows(y, int(search["max_rows"]), seed)
    if len(rows) < len(y):
        log.info(
            "search on a stratified sample of %s of %s rows (model.search.max_rows)",
            f"{len(rows):,}",
            f"{len(y):,}",
        )
    X, y = X.iloc[rows], y[rows]
    groups = None if groups is None else groups[rows]
    encoded = encode_parts(
        X, y, inner_parts(y, groups, int(search["inner_folds"]), seed), numeric, categorical
    )
    kinds = dict(search["kinds"])
    rngs = {name: np.random.default_rng([seed, i]) for i, name in enumerate(kinds)}
    trials: list[dict] = []
    best: dict[str, dict] = {}
    for number in itertools.count(1):
        name = list(kinds)[(number - 1) % len(kinds)]
        first = number <= len(kinds)
        spent = time.perf_counter() - started
        if not first and (spent >= search["budget_s"] or number > search["max_trials"]):
            break
        params = draw_params(kinds[name]["space"], rngs[name], first)
        estimator_cfg = {**kinds[name]["estimator"], **params}
        trial_started = time.perf_counter()
        outcome = run_trial(estimator_cfg, encoded, search, len(y))
        trial = {
            "number": number,
            "kind": name,
            "params": {**params, "trees": outcome["trees"]},
            "inner_roc_auc": outcome["inner_roc_auc"],
            "seconds": round(time.perf_counter() - trial_started, 2),
        }
        trials.append(trial)
        if name not in best or outcome["inner_roc_auc"] > best[name]["inner_roc_auc"]:
            best[name] = {**outcome, "estimator": with_trees(estimator_cfg, outcome["trees"])}
        log.info(
            "search trial %d (%s): %s, %d trees -> inner roc_auc %.4f (%.1f s)",
            number,
            name,
            ", ".join(f"{k} {v}" for k, v in params.items()),
            outcome["trees"],
            outcome["inner_roc_auc"],
            trial["seconds"],
        )
        if advance is not None:
            advance()
    return choose(best, y, encoded, search, trials, len(rows), plan)


def planned_seconds(best: dict, names, plan: tuple[int, int]) -> float:
    """What fitting these kinds' best trials in every later fit will take, from the trials'
    own seconds per tree per row."""
    rows, fits = plan
    return sum(best[n]["tree_row_s"] * best[n]["trees"] * rows * fits for n in names)


def choose(
    best: dict, y, encoded, search: Mapping, trials: list, rows: int, plan=(0, 0)
) -> SearchResult:
    """The single best kind, or the blend of each kind's best when it wins out of fold; only what
    the later fits can afford within `fit_budget_s` (else the cheapest kind)."""
    budget = float(search.get("fit_budget_s") or np.inf)
    ranked = sorted(best, key=lambda name: -best[name]["inner_roc_auc"])
    affordable = [n for n in ranked if planned_seconds(best, [n], plan) <= budget]
    if len(affordable) < len(ranked):
        log.info(
            "fitting %s in every fold would take about %s s, over model.search.fit_budget_s=%.0f",
            ", ".join(n for n in ranked if n not in affordable),
            ", ".join(f"{planned_seconds(best, [n], plan):.0f}" for n in ranked),
            budget,
        )
    top = (affordable or [min(ranked, key=lambda n: planned_seconds(best, [n], plan))])[0]
    single = fold_auc(best[top]["oof"], y, encoded)
    result = SearchResult(best[top]["estimator"], single, trials, {top: 1.0}, rows)
    if search["ensemble"] and len(affordable) > 1:
        weights, blended = blend_weights(
            {n: best[n] for n in affordable}, y, encoded, float(search["weight_step"])
        )
        gain = blended - single
        chosen = [n for n, w in weights.items() if w > 0]
        cost = planned_seconds(best, chosen, plan)
        if cost > budget:
            log.info("the blend would take about %.0f s to fit: the best kind alone", cost)
        elif gain > float(search["ensemble_min_gain"]) and len(chosen) > 1:
            kept = {k: weights[k] for k in chosen}
            members = [best[k]["estimator"] for k in chosen]
            estimator = blend_config(members, list(kept.values()))
            result = SearchResult(estimator, blended, trials, kept, rows)
        log.info(
            "blend %s: inner roc_auc %.4f against %.4f for %s alone: %s",
            ", ".join(f"{k} {w:.1f}" for k, w in weights.items()),
            blended,
            single,
            top,
            "blend kept" if len(result.weights) > 1 else "single model kept",
        )
    log.info("search chose %s (inner roc_auc %.4f)", describe(result), result.inner_roc_auc)
    return result


def blend_weights(best: dict, y, encoded, step: float) -> tuple[dict[str, float], float]:
    """Weights on a grid of the simplex that maximise the mean inner ROC-AUC of the blend."""
    names = list(best)
    ticks = int(round(1 / step))
    top, top_weights = -np.inf, {}
    for combo in itertools.product(range(ticks + 1), repeat=len(names)):
        if sum(combo) != ticks:
            continue
        weights = np.asarray(combo, dtype=float) / ticks
        blended = sum(w * best[n]["oof"] for w, n in zip(weights, names, strict=True) if w > 0)
        score = fold_auc(blended, y, encoded)
        if score > top + 1e-12:
            top, top_weights = score, dict(zip(names, weights.tolist(), strict=True))
    return top_weights, float(top)


def describe(result: SearchResult) -> str:
    """'catboost x1.0' or 'lightgbm x0.4 + catboost x0.6' for the log."""
    return " + ".join(f"{k} x{w:.1f}" for k, w in result.weights.items())
