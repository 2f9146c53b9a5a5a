"""Why customers leave: exact SHAP per feature, summed into driver families, as reason codes.

Boosted trees get their library's own exact TreeSHAP (`members.py`: XGBoost's tabulated once per
cell of the model's split grid for shallow trees, LightGBM's and CatBoost's as they give it; a
blend weights its members'); the logistic baseline gets linear SHAP. Values
are in log-odds of the fitted model, one-hot columns summed back to the feature they encode. For
people they become probability points of the calibrated churn probability, scaled so that a
customer's points add up to their probability minus the base probability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from churn.explain.drivers import (  # noqa: F401 - driver views are read from here too
    actionable_columns,
    driver_families,
    global_drivers,
    segment_drivers,
)
from churn.explain.members import booster_shap, is_tree_model


@dataclass
class Explanation:
    """Per-customer SHAP (log-odds) and probability points, one column per model feature.

    A customer's points add up to their probability minus `base_probability`, the probability of
    a customer whose every contribution is zero (the model's expected margin).
    """

    shap: pd.DataFrame
    points: pd.DataFrame
    base_margin: float
    probability: np.ndarray
    base_probability: float = float("nan")


def fitted_pipeline(model) -> Pipeline:
    """The fitted Pipeline inside a calibrated model (or the Pipeline itself)."""
    if isinstance(model, Pipeline):
        return model
    inner = model.calibrated_classifiers_[0].estimator
    return getattr(inner, "estimator", inner)


def column_owners(preprocess, features: Sequence[str]) -> np.ndarray:
    """For each column the preprocessor outputs, the index of the input feature it came from."""
    names = list(preprocess.get_feature_names_out())
    owners = []
    for name in names:
        # SimpleImputer(add_indicator=True) adds "missingindicator_<feature>": its feature's too
        name = name.removeprefix("missingindicator_")
        if name in features:
            owners.append(features.index(name))
            continue
        # one-hot columns are "<feature>_<category>"; the longest matching feature wins
        match = max((f for f in features if name.startswith(f"{f}_")), key=len, default=None)
        if match is None:
            raise ValueError(f"cannot trace encoded column {name!r} back to a feature")
        owners.append(features.index(match))
    return np.asarray(owners)


def sum_by_feature(by_column: np.ndarray, preprocess, features: Sequence[str]) -> np.ndarray:
    """SHAP of encoded columns added up per input feature, row by row.

    Plain per-row sums rather than a matrix product: BLAS may round differently for different
    batch sizes, and a customer's reasons must not depend on how the base was chunked.
    """
    owners = column_owners(preprocess, features)
    out = np.zeros((len(by_column), len(features)), dtype=np.float64)
    for j in range(len(features)):
        columns = np.flatnonzero(owners == j)
        out[:, j] = by_column[:, columns[0]] if len(columns) == 1 else by_column[:, columns].sum(1)
    return out


def explain(model, X: pd.DataFrame, background: pd.DataFrame | None = None) -> Explanation:
    """Exact SHAP for the model's kind: TreeSHAP for boosted trees, linear SHAP for the baseline."""
    pipe = fitted_pipeline(model)
    if is_tree_model(pipe[-1]):
        return tree_shap(model, X)
    if hasattr(pipe[-1], "coef_"):
        return linear_shap(model, X, X if background is None else background)
    raise TypeError(f"no exact explainer for {type(pipe[-1]).__name__}")


def tree_shap(model, X: pd.DataFrame) -> Explanation:
    """Exact TreeSHAP for every row, by feature, with probability points."""
    pipe = fitted_pipeline(model)
    encoded = np.asarray(pipe[:-1].transform(X), dtype=np.float64)
    by_column, base = booster_shap(pipe[-1], encoded)
    by_feature = sum_by_feature(by_column, pipe[:-1], list(X.columns))
    return finish(model, X, by_feature, base, by_column.sum(axis=1) + base)


def linear_shap(model, X: pd.DataFrame, background: pd.DataFrame) -> Explanation:
    """Exact SHAP of a linear model: coefficient x (value - background mean), in log-odds."""
    pipe = fitted_pipeline(model)
    encoded = np.asarray(pipe[:-1].transform(X), dtype=np.float64)
    reference = np.asarray(pipe[:-1].transform(background), dtype=np.float64).mean(axis=0)
    coef = pipe[-1].coef_.ravel()
    by_column = (encoded - reference) * coef
    by_feature = sum_by_feature(by_column, pipe[:-1], list(X.columns))
    base = float(pipe[-1].intercept_[0] + reference @ coef)
    return finish(model, X, by_feature, base, by_feature.sum(axis=1) + base)


def finish(model, X: pd.DataFrame, by_feature: np.ndarray, base: float, margin) -> Explanation:
    """Calibrated probability and probability points from log-odds SHAP."""
    probability = to_probability(model, np.asarray(margin))
    base_probability = float(to_probability(model, np.array([base]))[0])
    protected = to_probability(model, base + np.minimum(by_feature, 0.0).sum(axis=1))
    points = to_probability_points(by_feature, probability, base_probability, protected)
    features, index = list(X.columns), X.index
    return Explanation(
        pd.DataFrame(by_feature, index=index, columns=features),
        pd.DataFrame(points, index=index, columns=features),
        base,
        probability,
        base_probability,
    )


def to_probability(model, margin: np.ndarray) -> np.ndarray:
    """The calibrated probability for a log-odds margin, without re-running the pipeline."""
    margin = np.asarray(margin, dtype=np.float64)
    if isinstance(model, Pipeline):
        return 1.0 / (1.0 + np.exp(-margin))
    (calibrator,) = model.calibrated_classifiers_[0].calibrators
    # the calibrator was fitted on the score sklearn reads: decision_function (the margin
    # itself) where the model has one (logistic), else the probability (boosted trees)
    uses_margin = hasattr(fitted_pipeline(model), "decision_function")
    score = margin if uses_margin else 1.0 / (1.0 + np.exp(-margin))
    return np.clip(calibrator.predict(score), 0.0, 1.0).astype(np.float64)


def to_probability_points(
    shap: np.ndarray, probability: np.ndarray, base: float, protected: np.ndarray
) -> np.ndarray:
    """Each customer's gap to the base probability, shared out in proportion to their SHAP.

    The protective drivers (negative SHAP) take the customer from the base probability down to
    `protected`, the probability with only those drivers; the risk drivers take them from there
    up to their own probability. So the points add up exactly to probability minus base, and the
    risk drivers together never claim more than the customer's own probability, however large
    opposing SHAP values are (a '+129 pts' reason for a 77% customer cannot happen).
    """
    raising, lowering = np.maximum(shap, 0.0), np.minimum(shap, 0.0)
    has_up = raising.sum(axis=1) > 1e-12
    has_down = lowering.sum(axis=1) < -1e-12
    # one side only: the whole gap is that side's (no rounding left between the two steps)
    protected = np.where(~has_up, probability, np.where(~has_down, base, protected))
    up = (probability - protected)[:, None]
    down = (protected - base)[:, None]
    total_up = raising.sum(axis=1, keepdims=True)
    total_down = lowering.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        up_scale = np.where(total_up > 1e-12, up / total_up, 0.0)
        down_scale = np.where(total_down < -1e-12, down / total_down, 0.0)
    return raising * up_scale + lowering * down_scale


def dependence_direction(values: pd.Series, contribution: pd.Series) -> float:
    """Spearman correlation of a numeric feature with its SHAP: >0 means more of it, more risk."""
    known = values.notna()
    if known.sum() < 3 or values[known].nunique() < 2:
        return 0.0
    return float(values[known].rank().corr(contribution[known].rank()))


MIN_REASON_POINTS = 0.5


def reason_codes(
    explanation: Explanation,
    X: pd.DataFrame,
    catalog: Sequence[dict],
    top: int = 3,
    min_points: float = MIN_REASON_POINTS,
) -> pd.DataFrame:
    """The top actionable drivers raising each customer's risk, as sentences and structure.

    At most one reason per driver family (its strongest feature), so three reasons say three
    different things instead of "no visits", "no logins", "no purchases". A driver adding less
    than `min_points` probability points is not worth a call and is not listed.
    """
    by_name = {f["name"]: f for f in catalog}
    cols = actionable_columns(catalog, explanation.shap.columns)
    same = explanation.shap.index.equals(X.index)
    shap = (explanation.shap if same else explanation.shap.loc[X.index])[cols].to_numpy()
    points = (explanation.points if same else explanation.points.loc[X.index])[cols].to_numpy()
    points = points * 100
    rows = np.arange(len(X))
    strongest, strength = strongest_per_family(shap, [by_name[c]["driver_family"] for c in cols])
    n, k = len(X), min(top, strength.shape[1])
    order = np.take_along_axis(strongest, top_columns(strength, k), axis=1)
    out = {}
    for rank in range(top):
        sentence = np.full(n, None, dtype=object)
        feature = np.full(n, None, dtype=object)
        value = np.full(n, None, dtype=object)
        contribution = np.full(n, np.nan)
        family = np.full(n, None, dtype=object)
        if rank < k:
            j = order[:, rank]
            raises = (shap[rows, j] > 0) & (points[rows, j] >= min_points)
            for col in np.unique(j[raises]):
                who = raises & (j == col)
                name = cols[col]
                values = X[name].to_numpy()[who]
                sentence[who] = say_all(by_name[name], values, points[who, col])
                feature[who], value[who], family[who] = name, values, by_name[name]["driver_family"]
                contribution[who] = shap[who, col]
        out[f"reason_{rank + 1}"] = sentence
        out[f"reason_{rank + 1}_feature"] = feature
        out[f"reason_{rank + 1}_value"] = value
        out[f"reason_{rank + 1}_shap"] = contribution
        out[f"reason_{rank + 1}_family"] = family
    return pd.DataFrame(out, index=X.index)


def strongest_per_family(shap: np.ndarray, families: Sequence[str]):
    """Per row and family: the column with the largest SHAP in that family, and that SHAP."""
    names = list(dict.fromkeys(families))
    owner = np.asarray([names.index(f) for f in families])
    rows = np.arange(len(shap))
    strongest = np.zeros((len(shap), len(names)), dtype=np.int64)
    strength = np.zeros((len(shap), len(names)))
    for g in range(len(names)):
        columns = np.flatnonzero(owner == g)
        best = shap[:, columns].argmax(axis=1)
        strongest[:, g] = columns[best]
        strength[:, g] = shap[rows, columns[best]]
    return strongest, strength


def top_columns(values: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest values, largest first (ties: lower index first)."""
    if k == 0:
        return np.zeros((len(values), 0), dtype=np.int64)
    if k < values.shape[1]:
        picked = np.argpartition(-values, k - 1, axis=1)[:, :k]
    else:
        picked = np.tile(np.arange(values.shape[1]), (len(values), 1))
    picked_values = np.take_along_axis(values, picked, axis=1)
    rank = np.lexsort((picked, -picked_values), axis=1)
    return np.take_along_axis(picked, rank, axis=1)


def say_all(spec: Mapping, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Sentences for many customers: each distinct value and each point count is said once."""
    codes, distinct = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    template, description = spec["template"], spec.get("description", "")
    said = np.asarray([say(template, v, description) for v in distinct], dtype=object)[codes]
    shown = np.where(np.abs(points) < 1, np.round(points, 1), np.rint(points)) + 0.0  # no "-0"
    labels, first = np.unique(shown, return_inverse=True)
    text = [f" ({p:+.1f} pts risk)" if abs(p) < 1 else f" ({p:+.0f} pts risk)" for p in labels]
    return said + np.asarray(text, dtype=object)[first]


def say(template: str, value, description: str = "") -> str:
    """The feature's sentence; a missing value is said as not known, never as a number.

    A template may hold forms split by `|`: `zero|one|many` ("no unresolved complaints|1
    unresolved complaint|{value:.0f} unresolved complaints") or `zero|other` for a yes/no
    feature ("not in the loyalty programme|in the loyalty programme"), so 0 and 1 read right."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        if description:
            return f"{description}: not known"
        return template.split("|")[-1].split("{")[0].strip() + " unknown"
    chosen = form_for(template.split("|"), value)
    try:
        return chosen.format(value=value)
    except (ValueError, TypeError):
        return chosen.format(value=str(value))


def form_for(forms: list[str], value) -> str:
    """The form a value takes: the first at zero, the second at one (of three), else the last."""
    if len(forms) == 1:
        return forms[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return forms[-1]
    if round(number, 9) == 0:
        return forms[0]
    if len(forms) == 3 and round(number, 9) == 1:
        return forms[1]
    return forms[-1]
