"""A randomized test recorded in a customer table: who was contacted, and is the test sound?

`data.snapshot.treatment` names the arm column and the control group's value; every other value
is an action. Before anything is learnt from the test it is checked: the arms and their sizes,
a sample-ratio test against the declared shares (or equal ones), and a balance test of every
column across the arms. Randomization makes columns recorded before the contact alike in every
arm, so a column that differs beyond chance was probably recorded after it (a purchase the e-mail
brought about): it is left out of the features and the value, and named.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from churn.errors import ConfigError

log = logging.getLogger(__name__)
SRM_P = 0.001  # a sample ratio this unlikely under the declared shares is reported as a mismatch
MAX_LEVELS = 30  # categories beyond the most common ones are pooled for the balance test


def arm_labels(frame: pd.DataFrame, treatment: Mapping, tokens: Sequence[str]) -> pd.Series:
    """Each row's arm as text (None where blank), after checking the column and the control."""
    column = treatment.get("column")
    if column not in frame.columns:
        shown = ", ".join(map(repr, list(frame.columns)[:12]))
        raise ConfigError(
            f"data.snapshot.treatment.column={column!r} is not a column of the table ({shown})"
        )
    text = frame[column].astype(str).str.strip()
    control = str(treatment.get("control")).strip()
    blank = frame[column].isna() | text.isin(set(tokens) - {control})  # a control "none" counts
    arms = text.where(~blank, None)
    counts = arms.value_counts()
    if control not in counts.index:
        raise ConfigError(
            f"data.snapshot.treatment.control={treatment.get('control')!r} is not a value of "
            f"column {column!r}; its values: {dict(counts.head(8))}"
        )
    if len(counts) < 2:
        raise ConfigError(f"column {column!r} holds the control group only: nobody was contacted")
    return arms


def resolve_test(arms: pd.Series, treatment: Mapping) -> dict:
    """The arms, their sizes, the actions (every treated value) and the sample-ratio test."""
    control = str(treatment["control"]).strip()
    counts = {str(k): int(v) for k, v in arms.value_counts().sort_index().items()}
    ratio = sample_ratio(counts, treatment.get("shares"))
    actions = [a for a in counts if a != control]
    return {
        "column": treatment["column"],
        "control": control,
        "actions": actions,
        "arms": counts,
        "blank_arm_rows": int(arms.isna().sum()),
        "sample_ratio": ratio,
    }


def sample_ratio(counts: Mapping[str, int], shares: Mapping | None) -> dict:
    """Chi-square goodness of fit of the arm sizes to the declared shares (default: equal); a
    tiny p-value means the assignment was not what the test says (a sample-ratio mismatch)."""
    names = list(counts)
    if shares:
        unknown = sorted(set(map(str, shares)) - set(names))
        missing = sorted(set(names) - set(map(str, shares)))
        if unknown or missing:
            raise ConfigError(
                f"data.snapshot.treatment.shares names {unknown or 'no unknown arm'} and leaves "
                f"out {missing or 'no arm'}; the arms are {names}"
            )
        expected_share = np.array([float(shares[n]) for n in names])
        declared = True
    else:
        expected_share = np.full(len(names), 1.0 / len(names))
        declared = False
    if (expected_share <= 0).any():
        raise ConfigError("data.snapshot.treatment.shares: every arm's share must be above 0")
    expected_share = expected_share / expected_share.sum()
    observed = np.array([counts[n] for n in names], dtype=float)
    p = float(stats.chisquare(observed, expected_share * observed.sum()).pvalue)
    return {
        "expected": {n: round(float(s), 6) for n, s in zip(names, expected_share, strict=True)},
        "observed": {
            n: round(float(o / observed.sum()), 6) for n, o in zip(names, observed, strict=True)
        },
        "declared": declared,
        "p_value": p,
        "mismatch": p < SRM_P,
    }


def balance_p(column: pd.Series, arms: pd.Series, tokens: Sequence[str]) -> float:
    """p-value of 'this column is alike in every arm': Kruskal-Wallis on numbers, a chi-square
    test of independence on categories (missing is a category of its own in both)."""
    text = column.astype(str).str.strip()
    blank = column.isna() | text.isin(set(tokens))
    number = pd.to_numeric(text.where(~blank), errors="coerce")
    keep = arms.notna()
    numeric = number[~blank].notna().mean() > 0.98 if (~blank).any() else False
    if numeric and number[~blank].nunique() > MAX_LEVELS:
        groups = [number[keep & (arms == a) & number.notna()] for a in arms[keep].unique()]
        groups = [g for g in groups if len(g)]
        if len(groups) < 2 or pd.concat(groups).nunique() < 2:
            return 1.0
        p_values = [float(stats.kruskal(*groups).pvalue)]
        if blank.any():  # how often it is missing is a balance question of its own
            p_values.append(contingency_p(blank[keep].astype(str), arms[keep]))
        return min(1.0, min(p_values) * len(p_values))
    level = text.where(~blank, "(missing)")
    top = level[keep].value_counts().index[:MAX_LEVELS]
    level = level.where(level.isin(top), "(other)")
    return contingency_p(level[keep], arms[keep])


def contingency_p(level: pd.Series, arms: pd.Series) -> float:
    table = pd.crosstab(level, arms)
    if table.shape[0] < 2 or table.shape[1] < 2:
        return 1.0
    return float(stats.chi2_contingency(table.to_numpy()).pvalue)


def check_balance(
    frame: pd.DataFrame, arms: pd.Series, columns: Sequence[str], tokens, alpha: float
) -> tuple[dict[str, float], dict[str, float]]:
    """(every column's balance p-value, the columns whose arms differ beyond chance): each is
    tested at `alpha` divided by the number of columns (Bonferroni), so a sound test flags none
    by chance more often than `alpha`."""
    p_values = {name: balance_p(frame[name], arms, tokens) for name in columns}
    threshold = alpha / max(len(columns), 1)
    unbalanced = {n: p for n, p in p_values.items() if p < threshold}
    return p_values, unbalanced


def read_test(frame: pd.DataFrame, declared: Mapping, tokens) -> tuple[dict, dict] | None:
    """The resolved test and the columns to leave out as recorded after the contact (name ->
    reason); None when the data config declares no test."""
    treatment = declared.get("treatment")
    if not treatment:
        return None
    arms = arm_labels(frame, treatment, tokens)
    test = resolve_test(arms, treatment)
    label = (declared.get("label") or {}).get("column")
    skip = {treatment["column"], label, declared.get("id")}
    columns = [
        c for c in frame.columns if c not in skip and c not in (declared.get("exclude") or [])
    ]
    p_values, unbalanced = check_balance(
        frame, arms, columns, tokens, float(treatment.get("balance_p", 0.001))
    )
    kept = set(treatment.get("keep_unbalanced") or [])
    test["balance_p_values"] = {n: float(f"{p:.4g}") for n, p in p_values.items()}
    test["unbalanced"] = {n: float(f"{p:.4g}") for n, p in unbalanced.items()}
    left_out = {
        n: f"its arms differ (p={p:.2g}): recorded after the contact? "
        "(data.snapshot.treatment.keep_unbalanced keeps it)"
        for n, p in unbalanced.items()
        if n not in kept
    }
    say_test(test, left_out, kept & set(unbalanced))
    return test, left_out


def say_test(test: Mapping, left_out: Mapping, kept: set) -> None:
    """The arms, the sample ratio and the unbalanced columns, in the log."""
    arms = ", ".join(f"{a} {n:,}" for a, n in test["arms"].items())
    ratio = test["sample_ratio"]
    log.info("randomized test in %s: %s (control %r)", test["column"], arms, test["control"])
    shares = "declared" if ratio["declared"] else "equal"
    if ratio["mismatch"]:
        log.warning(
            "sample-ratio mismatch: the arms' sizes are unlikely under %s shares (p=%.2g): was "
            "assignment really random? (data.snapshot.treatment.shares declares unequal shares)",
            shares,
            ratio["p_value"],
        )
    else:
        log.info("sample ratio: consistent with %s shares (p=%.3f)", shares, ratio["p_value"])
    for name, reason in left_out.items():
        log.warning("%s: left out of features and value; %s", name, reason)
    for name in sorted(kept):
        log.warning("%s: its arms differ, kept (data.snapshot.treatment.keep_unbalanced)", name)
