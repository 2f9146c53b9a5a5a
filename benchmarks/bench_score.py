"""`churn score` on 100,000 and 1,000,000 customers: throughput, wall time and peak memory.

The champion is trained on the demo world (20,000 customers); bigger worlds are simulated and
validated into their own warehouses and scored with it, each job in its own process.

Metrics (suffix `_100k` for the smaller base):
- rows_per_s: rows from the built feature table to published output (predict, bands, value, call
  list, parquet + CSV + warehouse table, swap), without reason codes;
- rows_per_s_with_reasons: the same with exact-SHAP reason codes for every customer;
- job_wall_s: the whole job with reasons, feature build included; peak_rss_mb: its peak memory;
- baseline_unchunked_peak_rss_mb: the same job without reasons in one chunk (the whole base in
  memory at once), the named baseline for memory.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from bench_train import run_step
from common import size, write_result


def score(data: Path, world: Path, tag: str, *overrides: str) -> dict:
    """One `churn score` process; its summary.json plus wall time and peak memory."""
    scores = world / f"scores-{tag}"
    step = run_step(
        "score",
        world,
        f"mlflow.tracking_uri=sqlite:///{data}/mlflow.db",
        f"paths.scores_dir={scores}",
        *overrides,
    )
    (partition,) = scores.glob("as_of=*")
    return {**json.loads((partition / "summary.json").read_text()), **step}


def main() -> None:
    sizes = {
        "_100k": size("CHURN_BENCH_SCORE_SMALL", 100_000),
        "": size("CHURN_BENCH_SCORE", 1_000_000),
    }
    metrics: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "demo"
        for step in ("simulate", "validate", "features", "train"):
            run_step(step, data)
        for suffix, n in sizes.items():
            world = Path(tmp) / f"world{suffix or '_1m'}"
            run_step("simulate", world, f"n_customers={n}")
            run_step("validate", world)
            plain = score(data, world, "plain", "score.with_reasons=false")
            reasons = score(data, world, "reasons")
            whole = score(
                data, world, "whole", "score.with_reasons=false", "score.chunk_rows=1000000000"
            )
            metrics.update(
                {
                    f"rows{suffix}": plain["rows"],
                    f"rows_per_s{suffix}": plain["rows"] / plain["publish_s"],
                    f"rows_per_s_with_reasons{suffix}": reasons["rows"] / reasons["publish_s"],
                    f"job_wall_s{suffix}": reasons["wall_s"],
                    f"features_s{suffix}": reasons["features_s"],
                    f"peak_rss_mb{suffix}": reasons["peak_rss_mb"],
                    f"peak_rss_mb_without_reasons{suffix}": plain["peak_rss_mb"],
                    f"baseline_unchunked_peak_rss_mb{suffix}": whole["peak_rss_mb"],
                    f"baseline_unchunked_rows_per_s{suffix}": whole["rows"] / whole["publish_s"],
                }
            )
    write_result(
        "score",
        params={
            "customers": sizes[""],
            "customers_small": sizes["_100k"],
            "chunk_rows": 100_000,
            "model": "default xgboost trained on the demo world",
            "baseline": "the same job in one chunk (score.chunk_rows=1e9), for memory",
        },
        metrics=metrics,
    )


if __name__ == "__main__":
    main()
