"""Everything about a customer table that the user did not declare, inferred and said out loud.

`infer_spec(frame, declared)` returns the resolved snapshot spec (what `churn validate` writes to
`<paths.data_dir>/inferred.yaml`, in the shape of the data config's `snapshot:` section, so it can
be copied back and edited) and one log line per inference. What the user declared always wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from churn.errors import ConfigError
from churn.snapshot.dates import looks_like_dates
from churn.snapshot.economics import economics, infer_value
from churn.snapshot.feature_spec import check_declared, feature_line, feature_spec
from churn.snapshot.load import csv_options
from churn.snapshot.numbers import number_format, parse_numbers
from churn.snapshot.vocabulary import (
    MISSING_TOKENS,
    NEGATIVE_LABELS,
    POSITIVE_LABELS,
    is_word,
    looks_like_id,
    missing_mask,
    normal_label,
)

MAX_TEXT_TOKENS = 3  # a numeric column may carry this many distinct words meaning "not known"
MIN_ROWS_FOR_ID = 20
ID_UNIQUE = 0.99  # an id column may repeat in a few clashing rows; those become rejects


def profile(column: pd.Series, tokens, fmt: Mapping | None = None) -> dict[str, Any]:
    """Kind, missing count, words standing for 'not known' in numbers, distinct values."""
    text = column.astype(str).str.strip()
    missing = missing_mask(column, tokens)
    present = text[~missing]
    numbers = parse_numbers(present, fmt)
    words = present[numbers.isna()].value_counts()
    numeric = len(present) > 0 and (
        words.empty
        or (
            len(words) <= MAX_TEXT_TOKENS
            and all(is_word(w) for w in words.index)
            and numbers.nunique() >= 5
        )
    )
    finite = numbers[np.isfinite(numbers)]
    dates = not numeric and looks_like_dates(present)
    return {
        "kind": "numeric" if numeric else "date" if dates else "categorical",
        "missing": int(missing.sum()),
        "present": int(len(present)),
        "distinct": int(present.nunique()),
        "words": {str(k): int(v) for k, v in words.items()} if numeric else {},
        "integers": bool(numeric and len(finite) and (finite == finite.round()).all()),
        "yes_no": bool(numeric and len(finite) and finite.isin([0.0, 1.0]).all()),
        # 1, 2, 3, ... n: a row number, whatever the column is called
        "sequence": bool(
            numeric
            and len(finite) > 1
            and finite.nunique() == len(finite)
            and finite.max() - finite.min() + 1 == len(finite)
            and (finite == finite.round()).all()
        ),
    }


def exclusion_reason(name: str, facts: Mapping, rows: int, near_empty: float) -> str | None:
    """Why a column cannot be a feature: empty, constant, nearly empty, or an identifier."""
    if facts["present"] == 0:
        return "empty: every value is missing"
    if facts["distinct"] == 1 and facts["missing"] == 0:
        return "constant: one value in every row"  # one value or missing still tells two apart
    if rows and facts["missing"] / rows >= near_empty:
        return f"near-empty: {facts['missing'] / rows:.1%} missing"
    unique = facts["distinct"] == facts["present"] == rows
    if rows >= MIN_ROWS_FOR_ID and facts["kind"] == "categorical":
        if unique or facts["distinct"] > 0.5 * rows:
            return "unique per row (an identifier or free text), never a feature"
    if rows >= MIN_ROWS_FOR_ID and unique and facts["integers"]:
        if facts["sequence"] or looks_like_id(name):  # other unique numbers are measurements
            return "unique whole numbers per row (an identifier), never a feature"
    return None


def infer_id(frame: pd.DataFrame, declared: Mapping, tokens, lines: list[str]) -> str | None:
    if declared.get("id"):
        lines.append(f"id: {declared['id']} (declared)")
        return str(declared["id"])
    label = declared["label"]["column"]
    distinct = frame.drop_duplicates()  # an exact duplicate row repeats its id: not a clash
    for name in distinct.columns:
        if name == label or not looks_like_id(name):
            continue
        column = distinct[name]
        ids = column.astype(str).str.strip()
        if missing_mask(column, tokens).any() or ids.nunique() < ID_UNIQUE * len(ids):
            continue
        clashes = int(ids.duplicated(keep=False).sum())
        said = f"; {clashes:,} rows share an id with a different row (rejects)" if clashes else ""
        lines.append(f"id: {name} (unique per customer, named like an id{said})")
        return str(name)
    lines.append(
        "id: no unique column named like an id; customers are numbered by row, so duplicate "
        "customers can only be found by identical content (set data.snapshot.id to name one)"
    )
    return None


def infer_label(frame: pd.DataFrame, declared: Mapping, tokens, lines: list[str]) -> dict:
    """The positive value (declared, a churn word, or the minority) and the base rate."""
    label = dict(declared)
    column = frame[label["column"]]
    present = column[~missing_mask(column, tokens)].astype(str).str.strip()
    normal = present.map(normal_label)
    counts = normal.value_counts()
    spelled = dict(zip(normal, present, strict=True))
    if label.get("positive") is not None:
        positive = normal_label(label["positive"])
        how = "declared"
    elif len(counts) == 2:
        churn_words = [v for v in counts.index if v in POSITIVE_LABELS]
        stay_words = [v for v in counts.index if v in NEGATIVE_LABELS]
        if len(churn_words) == 1:
            positive, how = churn_words[0], "a churn value"
        elif len(stay_words) == 1:
            positive = next(v for v in counts.index if v not in stay_words)
            how = "the value that is not a stay value"
        else:
            positive, how = counts.index[-1], "the minority value"
    else:
        shown = {spelled[k]: int(v) for k, v in counts.head(8).items()}
        raise ConfigError(
            f"label column {label['column']!r} has {len(counts)} distinct values {shown}, "
            "not two: set data.snapshot.label.positive (and negative) to say which mean churn"
        )
    if label.get("negative") is not None:
        negative = normal_label(label["negative"])
    else:
        others = [v for v in counts.index if v != positive]
        negative = others[0] if len(others) == 1 else None
    odd = counts[~counts.index.isin([positive, negative])]
    if positive not in counts.index or len(odd):
        shown = {spelled[k]: int(v) for k, v in counts.items()}
        raise ConfigError(
            f"label column {label['column']!r} has values {shown}; positive "
            f"{label.get('positive')!r} / negative {label.get('negative')!r} do not cover them: "
            "fix data.snapshot.label.positive / negative"
        )
    rate = float(counts[positive] / counts.sum())
    label.update(
        positive=spelled[positive],
        negative=spelled.get(negative),
        meaning=label.get("meaning") or "churned",
        base_rate=round(rate, 6),
    )
    lines.append(
        f"label: {label['column']} = {label['positive']!r} means {label['meaning']} ({how}); base "
        f"rate {rate:.1%} ({int(counts[positive]):,} of {int(counts.sum()):,})"
    )
    return label


def infer_spec(
    frame: pd.DataFrame, declared: Mapping, left_out: Mapping[str, str] | None = None
) -> tuple[dict, list[str]]:
    """The resolved snapshot spec and one line per inference; `left_out` names columns that are
    no feature for a reason found before (a randomized test's arm, a column recorded after it)."""
    lines: list[str] = []
    left_out = dict(left_out or {})
    tokens = [str(t) for t in declared.get("missing_tokens") or MISSING_TOKENS]
    fmt = number_format(frame, declared, lines)
    identifier = infer_id(frame, declared, tokens, lines)
    label = infer_label(frame, declared["label"], tokens, lines)
    wanted = {  # a key left null in a structured config is not declared
        name: {k: v for k, v in (said or {}).items() if v is not None}
        for name, said in (declared.get("features") or {}).items()
    }
    exclude = set(declared.get("exclude") or [])
    near_empty = float(declared.get("near_empty_fraction", 0.95))
    features, excluded = {}, {}
    skip = {identifier, label["column"]}
    for name in frame.columns:
        if name in skip:
            continue
        if name in left_out:
            excluded[name] = left_out[name]
            lines.append(f"{name}: left out ({left_out[name]})")
            continue
        if name in exclude:
            excluded[name] = "excluded by data.snapshot.exclude"
            lines.append(f"{name}: left out (data.snapshot.exclude)")
            continue
        facts = profile(
            frame[name], tokens + list((wanted.get(name) or {}).get("missing_tokens", [])), fmt
        )
        reason = exclusion_reason(name, facts, len(frame), near_empty)
        if reason and not (name in wanted and not reason.startswith(("empty", "constant"))):
            excluded[name] = reason
            lines.append(f"{name}: dropped ({reason})")
            continue
        spec = feature_spec(name, facts, wanted.get(name) or {})
        check_declared(name, spec)
        features[name] = spec
        lines.append(feature_line(name, spec, facts, len(frame)))
    value = infer_value(frame, declared, features, tokens, lines, fmt)
    spec = {
        "path": declared["path"],
        "id": identifier,
        "label": label,
        "value": value,
        "missing_tokens": tokens,
        **fmt,
        "duplicates": duplicates_rule(declared, identifier, lines),
        "allow_leaky": list(declared.get("allow_leaky") or []),
        "exclude": sorted(exclude),
        "features": features,
        "excluded": excluded,
        "rows": int(len(frame)),
        **economics(frame, value, tokens, label["base_rate"], lines, fmt),
    }
    if declared.get("treatment"):
        spec["treatment"] = {k: v for k, v in declared["treatment"].items() if v is not None}
    if csv_options(declared):
        spec["csv_options"] = csv_options(declared)
    return spec, lines


def duplicates_rule(declared: Mapping, identifier: str | None, lines: list[str]) -> str:
    """As declared; else group (exact duplicates kept once, copies but the id kept and
    grouped in folds), but keep_all in a randomized test without an id: there, two
    customers with the same answers are two customers, and dropping one would bias an arm."""
    if declared.get("duplicates"):
        return str(declared["duplicates"])
    if declared.get("treatment") and identifier is None:
        lines.append(
            "duplicates: keep_all (a randomized test without an id: identical rows are "
            "different customers; data.snapshot.duplicates to change)"
        )
        return "keep_all"
    return "group"
