"""Population stability of every feature against the training reference, counted chunk by
chunk so the whole base never sits in memory, and the report: in the staged partition, and beside
the partitions once that one is published (or when the gate stopped it)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from churn.store import drift_report, parts_of, write_json_atomically
from churn.training.pipeline import model_inputs

log = logging.getLogger(__name__)


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


def count_drift(features_dir: Path, scorer, chunk_rows: int) -> DriftCounter:
    """Bin counts of every feature file, chunk by chunk (the Spark path)."""
    drift = DriftCounter(scorer.reference)
    for part in parts_of(features_dir):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=chunk_rows):
            drift.add(model_inputs(batch.to_pandas(), scorer.features))
    return drift


def check_drift(drift: DriftCounter, cfg, as_of, staging: Path) -> dict:
    """PSI of every feature against the training reference, in the staged partition; when the
    gate stops publication, the report is kept on its own (scores/drift/) to say why."""
    opts = cfg["score"]
    psi = drift.psi()
    worst = max(psi, key=psi.get) if psi else None
    drifted = sorted(k for k, v in psi.items() if v > opts["psi_threshold"])
    report = {
        "as_of": as_of.isoformat(),
        "threshold": opts["psi_threshold"],
        "drifted": drifted,
        "psi": dict(sorted(psi.items(), key=lambda kv: -kv[1])),
    }
    write_json_atomically(report, staging / "drift.json")
    log.info(
        "drift: %d of %d features over PSI %.2f (worst %s %.3f)",
        len(drifted),
        len(psi),
        opts["psi_threshold"],
        worst,
        psi.get(worst, 0.0) if worst else 0.0,
    )
    blocked = bool(drifted) and opts["fail_on_drift"]
    if blocked:
        kept = keep_drift_report(staging / "drift.json", Path(cfg["paths"]["scores_dir"]), as_of)
        log.error(
            "score.fail_on_drift: %s drifted; scores not published (report %s)",
            ", ".join(drifted),
            kept,
        )
    return {"drifted": drifted, "drift_blocked": blocked}


def keep_drift_report(report: Path, scores_dir: Path, as_of) -> Path:
    """The drift report beside the partitions (scores/drift/as_of=...json), written only after the
    partition it describes is published, or when the gate stopped it: never for scores that a
    killed run never published."""
    return write_json_atomically(json.loads(report.read_text()), drift_report(scores_dir, as_of))
