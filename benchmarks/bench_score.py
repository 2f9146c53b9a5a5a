"""`churn score` on 100,000 and 1,000,000 customers: throughput, wall time and peak memory.

The champion is trained on the demo world (20,000 customers); bigger worlds are simulated and
validated into their own warehouses and scored with it, each job in its own process.

Metrics (suffix `_100k` for the smaller base):
- rows_per_s: rows from the built feature table to published output (predict, bands, value, call
  list, parquet + CSV + warehouse table, swap), without reason codes;
- rows_per_s_with_reasons: the same with exact-SHAP reason codes for every customer;
- job_wall_s: the whole job with reasons, feature build included; peak_rss_mb: its peak memory;
- baseline_unchunked_peak_rss_mb: the same job without reasons in one chunk (the whole base in
  memory at once), the named baseline for memory;
- model_only_rows_per_s: the same fitted champion's own `predict_proba` on the same rows, in the
  same chunks, typed inputs ready (the ceiling for the job), and rows_per_s_vs_model: the job's
  rows_per_s over it.
"""

from __future__ import annotations

import json
import tempfile
import time
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


def model_only_rows_per_s(data: Path, world: Path, chunk_rows: int = 100_000) -> float:
    """The champion's own predict_proba over the world's scoring features, chunk by chunk."""
    import datetime as dt

    from churn.cli import compose_config
    from churn.dataset.sources import scoring_snapshot
    from churn.scoring.inputs import resolve_as_of
    from churn.scoring.model import load_scorer
    from churn.training.pipeline import model_inputs
    from churn.warehouse import connection

    cfg = compose_config(
        "score", f"paths.data_dir={world}", f"mlflow.tracking_uri=sqlite:///{data}/mlflow.db"
    )
    scorer = load_scorer(cfg)
    with connection(cfg["warehouse"]) as con:
        as_of: dt.date = resolve_as_of(con, cfg)
        expr, _ = scoring_snapshot(con, cfg, as_of)
        frame = con.to_pyarrow(expr).to_pandas()
    X = model_inputs(frame, scorer.features)
    started = time.perf_counter()
    for start in range(0, len(X), chunk_rows):
        scorer.churn.model.predict_proba(X.iloc[start : start + chunk_rows])
    return len(X) / (time.perf_counter() - started)


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
            model_only = model_only_rows_per_s(data, world)
            metrics.update(
                {
                    f"rows{suffix}": plain["rows"],
                    f"rows_per_s{suffix}": plain["rows"] / plain["publish_s"],
                    f"model_only_rows_per_s{suffix}": model_only,
                    f"rows_per_s_vs_model{suffix}": plain["rows"] / plain["publish_s"] / model_only,
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
