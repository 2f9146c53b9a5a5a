"""Out-of-fold effects on a randomized test in a customer table, with the learner chosen inside.

The folds are stratified on arm x label and repeated. In each training part the learner (S, T, X
or DR, `uplift.choose_from`) is chosen by its out-of-fold Qini on inner folds of that part alone,
refitted on the whole part and asked for the held-out customers' effects; a risk model fitted on
the part's control group ranks the same held-out customers by risk without contact. No figure
about a customer comes from a model that saw them.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.preprocessing import FunctionTransformer

from churn.dataset.build import progress_bar
from churn.errors import ConfigError
from churn.uplift.model import RetentionUplift, build_uplift_model, finite_inputs
from churn.uplift.qini import qini_coefficient

log = logging.getLogger(__name__)


@dataclass
class CrossFit:
    """Out-of-fold predictions, averaged over the repeats (each from models that never saw the
    customer), and the learner each training part chose per action."""

    effects: np.ndarray  # customers x actions: predicted drop in churn probability
    risk: np.ndarray  # customers: churn probability without contact
    chosen: dict[str, Counter]  # action -> how often each learner was chosen
    inner_qini: dict[str, dict[str, list[float]]]  # action -> learner -> inner Qini per fold


def candidates(opts: Mapping, features: Sequence[Mapping] | None) -> dict[str, RetentionUplift]:
    """The learners to choose from, each with the churn trees' finite preprocessing; features
    None: on inputs already made finite (the cross-fitting encodes each training part once)."""
    names = list(opts["choose_from"])
    unknown = [n for n in names if n not in opts["learners"]]
    if unknown or not names:
        raise ConfigError(
            f"uplift.choose_from={names}: {unknown or 'empty'}; the learners are "
            f"{', '.join(opts['learners'])} (uplift.learners)"
        )
    learners = opts["learners"]
    if features is not None:
        return {name: build_uplift_model({"learner": learners[name]}, features) for name in names}
    return {
        name: RetentionUplift(FunctionTransformer(), instantiate(learners[name], _convert_="all"))
        for name in names
    }


def choose_learner(X, y, called, pool: Mapping, inner_folds: int, seed: int):
    """The learner with the best out-of-fold Qini on inner folds of these rows, and every
    learner's Qini."""
    if len(pool) == 1:
        return next(iter(pool)), {}
    folds = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
    scores = {}
    for name, model in pool.items():
        oof = np.zeros(len(y))
        for fit, held in folds.split(X, called * 2 + y):
            fitted = copy.deepcopy(model).fit(X[fit], y[fit], called[fit])
            oof[held] = fitted.predict(X[held])
        scores[name] = qini_coefficient(oof, called, y)
    return max(scores, key=scores.get), scores


def cross_fit(
    X: pd.DataFrame, y, arm, control: str, actions: Sequence[str], opts: Mapping, features
) -> CrossFit:
    """Every customer's out-of-fold effect of each action and risk without contact."""
    y = np.asarray(y, dtype=int)
    arm = np.asarray(arm, dtype=object)
    folds = RepeatedStratifiedKFold(
        n_splits=opts["folds"], n_repeats=opts["repeats"], random_state=opts["seed"]
    )
    splits = list(folds.split(X, pd.factorize(arm)[0] * 2 + y))
    pool = candidates(opts, None)
    effects = np.zeros((opts["repeats"], len(y), len(actions)))
    risk = np.zeros((opts["repeats"], len(y)))
    chosen = {a: Counter() for a in actions}
    inner = {a: {n: [] for n in pool} for a in actions}
    with progress_bar() as progress:
        task = progress.add_task("uplift: cross-fitting", total=len(splits))
        for i, (fit, held) in enumerate(splits):
            repeat = i // opts["folds"]
            # encoded once per training part (categories and medians: no label, no held-out row)
            encode = finite_inputs(features).fit(X.iloc[fit])
            codes, held_codes = encode.transform(X.iloc[fit]), encode.transform(X.iloc[held])
            for j, action in enumerate(actions):
                mine = (arm[fit] == action) | (arm[fit] == control)
                rows, inputs = fit[mine], codes[mine]
                called = (arm[rows] == action).astype(int)
                name, scores = choose_learner(
                    inputs, y[rows], called, pool, opts["inner_folds"], opts["seed"] + i
                )
                chosen[action][name] += 1
                for learner, score in scores.items():
                    inner[action][learner].append(score)
                model = copy.deepcopy(pool[name]).fit(inputs, y[rows], called)
                effects[repeat, held, j] = model.predict(held_codes)
            controls = arm[fit] == control
            model = instantiate(opts["risk_model"], _convert_="all")
            model.fit(codes[controls], y[fit][controls])
            risk[repeat, held] = model.predict_proba(held_codes)[:, 1]
            progress.advance(task)
    return CrossFit(effects.mean(axis=0), risk.mean(axis=0), chosen, inner)
