"""Why customers leave: exact SHAP per feature, summed into driver families, as reason codes.

Tree models get XGBoost's own exact TreeSHAP (`pred_contribs`), tabulated once per cell of the
model's split grid for shallow trees (`ShapTable`); the logistic baseline gets linear SHAP. Values
are in log-odds of the fitted model, one-hot columns summed back to the feature they encode. For
people they become probability points of the calibrated churn probability, scaled so that a
customer's points add up to their probability minus the base probability.
"""

from __future__ import annotations

import json
import math
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.pipeline import Pipeline

from churn.drivers import DRIVER_FAMILIES


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
    if hasattr(pipe[-1], "get_booster"):
        return tree_shap(model, X)
    if hasattr(pipe[-1], "coef_"):
        return linear_shap(model, X, X if background is None else background)
    raise TypeError(f"no exact explainer for {type(pipe[-1]).__name__}")


def tree_shap(model, X: pd.DataFrame) -> Explanation:
    """Exact TreeSHAP for every row, by feature, with probability points."""
    pipe = fitted_pipeline(model)
    encoded = np.asarray(pipe[:-1].transform(X), dtype=np.float32)
    by_column, base = shap_by_column(pipe[-1].get_booster(), encoded)
    by_feature = sum_by_feature(by_column, pipe[:-1], list(X.columns))
    return finish(model, X, by_feature, base, by_column.sum(axis=1) + base)


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
MAX_CELLS = 1 << 16


def shap_by_column(booster: xgb.Booster, encoded: np.ndarray) -> tuple[np.ndarray, float]:
    """TreeSHAP per encoded column and the base margin; tabulated when the trees are shallow."""
    if booster not in _TABLES:
        _TABLES[booster] = ShapTable.build(booster, encoded.shape[1])
    table = _TABLES[booster]
    return table.lookup(booster, encoded), table.base


@dataclass
class ShapTable:
    """XGBoost's exact TreeSHAP, computed once per cell of the model's split grid, then looked up.

    A tree's path-dependent SHAP depends only on which side of each of its splits a row falls.
    Trees are grouped by the columns they split on; per group, every combination of bins between
    the model's thresholds (and missing) is one cell, whose SHAP XGBoost computes once. A row's SHAP
    is then a sum of table lookups: exact, and far cheaper than TreeSHAP per row for shallow trees.
    Groups with too many cells (deep trees on many columns) keep TreeSHAP per row.
    """

    thresholds: list[np.ndarray]
    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # (columns, strides, SHAP per cell)
    direct: list[tuple[int, int]]  # tree ranges [start, stop) explained row by row
    base: float
    n_columns: int

    @classmethod
    def build(cls, booster: xgb.Booster, n_columns: int) -> ShapTable:
        trees = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]
        splits = [tree_splits(tree) for tree in trees["trees"]]
        thresholds = [np.zeros(0, dtype=np.float32) for _ in range(n_columns)]
        for tree in splits:
            for column, threshold in tree:
                thresholds[column] = np.append(thresholds[column], np.float32(threshold))
        thresholds = [np.unique(t) for t in thresholds]
        by_columns: dict[tuple[int, ...], list[int]] = {}
        for i, tree in enumerate(splits):
            by_columns.setdefault(tuple(sorted({c for c, _ in tree})), []).append(i)
        groups, direct = [], []
        for cols, idx in by_columns.items():
            if math.prod(len(thresholds[c]) + 2 for c in cols) > MAX_CELLS:
                direct += idx
            elif cols:  # a tree without a split adds to the base margin only
                groups.append(cell_table(booster, cols, idx, thresholds))
        probe = booster.predict(xgb.DMatrix(np.full((1, n_columns), np.nan)), pred_contribs=True)
        return cls(thresholds, groups, tree_ranges(direct), float(probe[0, -1]), n_columns)

    def lookup(self, booster: xgb.Booster, encoded: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_columns, len(encoded)), dtype=np.float64)
        if self.direct:
            matrix = xgb.DMatrix(encoded)
            for start, stop in self.direct:
                out += booster[start:stop].predict(matrix, pred_contribs=True)[:, :-1].T
        bins: dict[int, np.ndarray] = {}
        for columns, strides, table in self.groups:
            cell = None
            for column, stride in zip(columns, strides, strict=True):
                if column not in bins:
                    bins[column] = bin_values(encoded[:, column], self.thresholds[column])
                part = bins[column] * stride
                cell = part if cell is None else cell + part
            for k, column in enumerate(columns):
                out[column] += table[k].take(cell)
        return out.T


def tree_ranges(trees: list[int]) -> list[tuple[int, int]]:
    """Sorted tree indices as few contiguous [start, stop) ranges (one booster slice each)."""
    ranges: list[tuple[int, int]] = []
    for i in sorted(trees):
        if ranges and ranges[-1][1] == i:
            ranges[-1] = (ranges[-1][0], i + 1)
        else:
            ranges.append((i, i + 1))
    return ranges


def tree_splits(tree: dict) -> list[tuple[int, float]]:
    """(column, threshold) of every split in one tree of XGBoost's JSON model."""
    left = tree["left_children"]
    return [
        (tree["split_indices"][node], tree["split_conditions"][node])
        for node in range(len(left))
        if left[node] != -1
    ]


def bin_values(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Bin k holds thresholds[k-1] <= x < thresholds[k] (XGBoost goes left on x < t); NaN last."""
    bins = np.searchsorted(thresholds, values, side="right").astype(np.int32)
    bins[np.isnan(values)] = len(thresholds) + 1
    return bins


def representatives(thresholds: np.ndarray) -> np.ndarray:
    """One value inside each bin of `bin_values`, in bin order."""
    below = np.nextafter(thresholds[:1], np.float32(-np.inf)) if len(thresholds) else [0.0]
    return np.concatenate([below, thresholds, [np.nan]]).astype(np.float32)


def cell_table(booster: xgb.Booster, columns, trees, thresholds):
    """SHAP of one group of trees for every cell of its columns' bins: (cells, columns)."""
    columns = np.asarray(columns, dtype=np.int64)
    reps = [representatives(thresholds[c]) for c in columns]
    grid = np.stack(np.meshgrid(*reps, indexing="ij"), axis=-1).reshape(-1, len(columns))
    design = np.full((len(grid), booster.num_features()), np.nan, dtype=np.float32)
    design[:, columns] = grid
    matrix = xgb.DMatrix(design)
    table = np.zeros((len(grid), len(columns)), dtype=np.float64)
    for i in trees:
        table += booster[i : i + 1].predict(matrix, pred_contribs=True)[:, columns]
    sizes = [len(r) for r in reps]
    strides = np.asarray([int(np.prod(sizes[k + 1 :])) for k in range(len(sizes))], dtype=np.int64)
    return columns, strides, np.ascontiguousarray(table.T)


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


def family_matrix(catalog: Sequence[dict], features: Sequence[str]) -> pd.DataFrame:
    """0/1 matrix, features x driver families, from the declared catalogue (only the families
    the catalogue uses, in their declared order)."""
    family_of = {f["name"]: f["driver_family"] for f in catalog}
    used = set(family_of.values())
    families = [f for f in DRIVER_FAMILIES if f in used]
    out = pd.DataFrame(0.0, index=list(features), columns=families)
    for name in features:
        out.loc[name, family_of[name]] = 1.0
    return out


def driver_families(values: pd.DataFrame, catalog: Sequence[dict]) -> pd.DataFrame:
    """Per-customer contributions summed within each driver family."""
    return values @ family_matrix(catalog, list(values.columns))


def global_drivers(shap: pd.DataFrame, catalog: Sequence[dict], actionable_only: bool = False):
    """Mean |SHAP| per feature and per driver family, largest first."""
    keep = actionable_columns(catalog, shap.columns) if actionable_only else list(shap.columns)
    per_feature = shap[keep].abs().mean().sort_values(ascending=False)
    per_family = driver_families(shap[keep], catalog).abs().mean().sort_values(ascending=False)
    return per_feature, per_family


def segment_drivers(
    shap: pd.DataFrame, catalog: Sequence[dict], by: pd.Series, actionable_only: bool = False
) -> pd.DataFrame:
    """Each segment's mean |SHAP| per driver family, as shares of that segment's total."""
    keep = actionable_columns(catalog, shap.columns) if actionable_only else list(shap.columns)
    families = driver_families(shap[keep], catalog).abs()
    per_segment = families.groupby(by.to_numpy(), observed=True).mean()
    return per_segment.div(per_segment.sum(axis=1), axis=0).fillna(0.0)


def dependence_direction(values: pd.Series, contribution: pd.Series) -> float:
    """Spearman correlation of a numeric feature with its SHAP: >0 means more of it, more risk."""
    known = values.notna()
    if known.sum() < 3 or values[known].nunique() < 2:
        return 0.0
    return float(values[known].rank().corr(contribution[known].rank()))


def actionable_columns(catalog: Sequence[dict], columns) -> list[str]:
    actionable = {f["name"] for f in catalog if f["actionable"]}
    return [c for c in columns if c in actionable]


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
    """The feature's sentence; a missing value is said as not known, never as a number."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        if description:
            return f"{description}: not known"
        return template.split("{")[0].strip() + " unknown"
    try:
        return template.format(value=value)
    except (ValueError, TypeError):
        return template.format(value=str(value))
