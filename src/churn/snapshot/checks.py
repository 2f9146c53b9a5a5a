"""Data checks before training: columns that give the label away, and duplicate rows.

A column whose own ROC-AUC against the label is at least `LEAK_AUC` (or whose presence pattern
predicts it) was almost certainly recorded after the customer left: a cancellation reason, a
final bill. Training on it gives a perfect score and a useless model, so it stops the run unless
the user confirms it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from churn.errors import ConfigError

log = logging.getLogger(__name__)
LEAK_AUC = 0.98
DUPLICATE_RULES = ("group", "keep_one", "keep_all", "reject")


def separation(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC folded to [0.5, 1]: how well a score alone tells churners from stayers."""
    auc = roc_auc_score(y, score)
    return float(max(auc, 1.0 - auc))


def numeric_separation(y: np.ndarray, values: pd.Series) -> float:
    """Missing ranked below every value, then above: a column present only for leavers leaks."""
    numbers = values.to_numpy(dtype=float)
    known = np.isfinite(numbers)
    if not known.any():
        return 0.5
    low, high = numbers[known].min() - 1.0, numbers[known].max() + 1.0
    return max(
        separation(y, np.where(known, numbers, low)), separation(y, np.where(known, numbers, high))
    )


def categorical_separation(y: np.ndarray, values: pd.Series, seed: int = 0) -> float:
    """Out-of-fold churn rate of each category as the score, so many-valued columns do not
    separate the label by memorising it."""
    codes = pd.Series(values.fillna("<missing>").astype(str).to_numpy())
    score = np.full(len(y), y.mean())
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for fit, test in folds.split(np.zeros(len(y)), y):
        rates = pd.Series(y[fit]).groupby(codes.iloc[fit].to_numpy()).mean()
        score[test] = codes.iloc[test].map(rates).fillna(y[fit].mean()).to_numpy()
    return separation(y, score)


def column_separation(rows: pd.DataFrame, spec: Mapping) -> dict[str, float]:
    """Each feature's own ROC-AUC against the label, strongest first."""
    y = rows["churn"].to_numpy(dtype=int)
    if np.unique(y).size < 2:
        return {}
    out = {}
    for name, feature in spec["features"].items():
        if feature["kind"] == "numeric":
            out[name] = numeric_separation(y, rows[name])
        else:
            out[name] = categorical_separation(y, rows[name])
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def check_leakage(rows: pd.DataFrame, spec: Mapping) -> dict[str, float]:
    """Stop on a column that gives the label away, unless data.snapshot.allow_leaky names it."""
    strength = column_separation(rows, spec)
    allowed = set(spec.get("allow_leaky") or [])
    leaking = {n: auc for n, auc in strength.items() if auc >= LEAK_AUC}
    for name in sorted(set(leaking) & allowed):
        log.warning(
            "%s: ROC-AUC %.4f on its own, kept (data.snapshot.allow_leaky)", name, leaking[name]
        )
    stopped = {n: a for n, a in leaking.items() if n not in allowed}
    if stopped:
        listed = ", ".join(f"{n} (ROC-AUC {a:.4f} on its own)" for n, a in stopped.items())
        names = ", ".join(stopped)
        raise ConfigError(
            f"column(s) {listed} tell churners from stayers almost perfectly: they were probably "
            f"recorded after the customer left. Leave them out with data.snapshot.exclude: "
            f"[{names}], or keep them knowingly with data.snapshot.allow_leaky: [{names}]"
        )
    return strength


def find_duplicates(
    frame: pd.DataFrame, rule: str, id_column: str | None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(rows to drop, counted; rows to reject; rows kept as copies of another customer).

    Exact duplicate rows follow the rule. So do copies: rows identical in every column but the
    id. Under `group` (the default) exact duplicates are kept once and copies are kept, counted
    and named; training then keeps each set of copies in one fold, so cross-validation never sees
    one customer's twin on both sides."""
    if rule not in DUPLICATE_RULES:
        raise ConfigError(
            f"data.snapshot.duplicates={rule!r}: use one of {', '.join(DUPLICATE_RULES)}"
        )
    none = pd.Series(False, index=frame.index)
    later = frame.duplicated(keep="first")
    every = frame.duplicated(keep=False)
    if id_column is None:
        copy_later, copy_every = none, none
    else:
        content = frame.drop(columns=id_column)
        copy_every = content.duplicated(keep=False) & ~every
        copy_later = content.duplicated(keep="first") & ~later
    if rule == "keep_all":
        if every.any() and id_column is not None:
            raise ConfigError(
                "data.snapshot.duplicates=keep_all: copies of a row share their customer id and "
                "cannot both be scored; use keep_one, group or reject"
            )
        if later.any() or copy_later.any():
            log.info(
                "%s row(s) identical to an earlier one (but the id) kept as separate customers "
                "(data.snapshot.duplicates=keep_all)",
                f"{int(later.sum() + copy_later.sum()):,}",
            )
        return none, none, copy_every  # identical rows without an id: identical_rows_kept
    if rule == "reject":
        return none, every | copy_every, none
    if later.any():
        log.warning(
            "%s exact duplicate row(s) (%.1f%% of the table) kept once "
            "(data.snapshot.duplicates=%s; reject to send every copy to the rejects)",
            f"{int(later.sum()):,}",
            100 * later.mean(),
            rule,
        )
    if rule == "keep_one":
        return later | copy_later, none, none
    if copy_later.any():
        log.warning(
            "%s row(s) (%.1f%% of the table) are identical to another in every column but the "
            "id %s: kept as customers of their own, each set in one fold in cross-validation "
            "(data.snapshot.duplicates=keep_one keeps one of each set, reject rejects them)",
            f"{int(copy_later.sum()):,}",
            100 * copy_later.mean(),
            id_column,
        )
    return later, none, copy_every


def copies_found(frame: pd.DataFrame, copies: pd.Series, id_column: str | None) -> dict:
    """Rows kept that are identical to another in every column but the id: how many, in how
    many sets, and a few sets by id, for the data checks, the report and MLflow."""
    if not copies.any():
        return {"rows": 0, "sets": 0, "examples": []}
    rows = frame[copies]
    content = [c for c in rows.columns if c != id_column]
    sets = rows.groupby(content, dropna=False, sort=False)
    ids = (rows[id_column].astype(str) if id_column else (rows.index + 1).astype(str)).to_numpy()
    examples = [sorted(ids[where].tolist())[:3] for where in list(sets.indices.values())[:5]]
    return {"rows": int(copies.sum()), "sets": int(sets.ngroups), "examples": examples}
