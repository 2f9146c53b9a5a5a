"""Exact TreeSHAP for shallow boosted trees, tabulated once per cell of the model's split grid.

XGBoost's own `pred_contribs` gives exact path-dependent TreeSHAP; for shallow trees it is
computed once per cell and looked up per customer (`ShapTable`), deeper groups keep TreeSHAP per
row. Equal to XGBoost's TreeSHAP to float precision (tests/unit/test_shap_exact.py).
"""

from __future__ import annotations

import json
import math
import weakref
from dataclasses import dataclass

import numpy as np
import xgboost as xgb

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
