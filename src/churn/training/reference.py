"""The training reference distribution of every feature, which scoring compares against (PSI)."""

from __future__ import annotations

import numpy as np
import pandas as pd

BINS = 10


def numeric_reference(values: pd.Series) -> dict:
    """Decile edges of the training values and the share in each bin, plus the missing share."""
    present = values.dropna().to_numpy(dtype=float)
    if present.size == 0:
        return {"edges": [], "shares": [], "missing": 1.0}
    edges = np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)))
    counts = np.histogram(present, bins=edges)[0] if edges.size > 1 else np.array([present.size])
    return {
        "edges": edges.tolist(),
        "shares": (counts / present.size).tolist(),
        "missing": float(values.isna().mean()),
    }


def categorical_reference(values: pd.Series) -> dict:
    shares = values.fillna("missing").astype(str).value_counts(normalize=True)
    return {"shares": {k: float(v) for k, v in shares.items()}}


def reference_distributions(frame: pd.DataFrame, numeric, categorical) -> dict:
    return {
        "numeric": {name: numeric_reference(frame[name]) for name in numeric},
        "categorical": {name: categorical_reference(frame[name]) for name in categorical},
    }
