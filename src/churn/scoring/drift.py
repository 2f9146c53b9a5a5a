"""Population stability of every feature against the training reference, counted chunk by
chunk so the whole base never sits in memory. Pure: the job writes the report."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class DriftCounter:
    """Bin counts of every feature across chunks, against the training reference."""

    reference: dict
    counts: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, X: pd.DataFrame) -> None:
        for name, ref in self.reference["numeric"].items():
            if name not in X:
                continue
            values = X[name].to_numpy(dtype=float)
            edges = np.asarray(ref["edges"], dtype=float)
            known = ~np.isnan(values)
            bins = np.clip(np.searchsorted(edges, values[known], side="right") - 1, 0, None)
            n_bins = max(len(ref["shares"]), 1)
            counts = np.bincount(np.minimum(bins, n_bins - 1), minlength=n_bins).astype(float)
            counts = np.append(counts, (~known).sum())
            self.counts[name] = self.counts.get(name, 0) + counts
        for name, ref in self.reference["categorical"].items():
            if name not in X:
                continue
            levels = list(ref["shares"])
            seen = X[name].fillna("missing").astype(str)
            codes = pd.Categorical(seen, categories=levels).codes  # -1: a level never seen
            counts = np.bincount(codes.astype(np.int64) + 1, minlength=len(levels) + 1)
            counts = np.append(counts[1:], counts[0])  # the reference's levels, then the new
            self.counts[name] = self.counts.get(name, 0) + counts.astype(float)

    def psi(self) -> dict[str, float]:
        out = {}
        for name, counts in self.counts.items():
            expected = self.expected(name)
            actual = counts / max(counts.sum(), 1.0)
            out[name] = population_stability(expected, actual)
        return out

    def expected(self, name: str) -> np.ndarray:
        if name in self.reference["numeric"]:
            ref = self.reference["numeric"][name]
            shares = np.asarray(ref["shares"] or [0.0], dtype=float) * (1 - ref["missing"])
            return np.append(shares, ref["missing"])
        shares = self.reference["categorical"][name]["shares"]
        return np.append(np.asarray(list(shares.values()), dtype=float), 0.0)


def population_stability(expected: np.ndarray, actual: np.ndarray, floor: float = 1e-4) -> float:
    """PSI = sum (a - e) ln(a / e), with empty bins floored so the sum stays finite."""
    e, a = np.maximum(expected, floor), np.maximum(actual, floor)
    return float(np.sum((a - e) * np.log(a / e)))
