"""The value backtest: CLV forecasts against the margin customers really brought, on the demo
world and on CDNOW, beside the baselines `churn train` fits in the same run.

At the latest cutoff whose `labels.value_horizon_months` (12) have passed, `churn train` fits a
churn model on the cutoffs whose churn labels had closed by then, forecasts CLV and compares it
with the realized margin in the window (`churn.training.value_backtest`). Baselines: today's value
(trailing 12-month margin) and, for CDNOW's purchase log, BG/NBD + Gamma-Gamma (`lifetimes`).

Metrics: spearman, gini (normalized), top10/top20_capture (share of realized value in the top
10/20% by forecast), aggregate_error (sum forecast / sum realized - 1); `_trailing` and
`_bgnbd_gg` suffixes for the baselines, `cdnow_` prefix for CDNOW.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from bench_train import run_step
from common import write_result

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("spearman", "gini", "top10_capture", "top20_capture", "aggregate_error")


def value_metrics(uri: str) -> dict[str, float]:
    """The value_* metrics of the newest training run in the store, prefix dropped."""
    import mlflow

    client = mlflow.tracking.MlflowClient(uri)
    experiments = client.search_experiments()
    runs = client.search_runs(
        [e.experiment_id for e in experiments], order_by=["attributes.start_time DESC"]
    )
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    metrics = parent.data.metrics
    return {k.removeprefix("value_"): v for k, v in metrics.items() if k.startswith("value_")}


def cdnow(tmp: Path) -> dict[str, float]:
    data, uri = tmp / "cdnow", f"sqlite:///{tmp}/cdnow.db"
    tracked = [
        f"mlflow.tracking_uri={uri}",
        f"paths.mlflow_artifacts={tmp}/mlruns-cdnow",
        f"paths.models_dir={tmp}/models-cdnow",
    ]
    for step in ("validate", "features", "train"):
        subprocess.run(
            [sys.executable, "-m", "churn.cli", step, "data=cdnow", f"paths.data_dir={data}"]
            + (tracked if step == "train" else []),
            check=True,
            cwd=ROOT,
        )
    return {f"cdnow_{k}": v for k, v in value_metrics(uri).items()}


def main() -> None:
    metrics: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "demo"
        for step in ("simulate", "validate", "features", "train"):
            run_step(step, data)
        metrics.update(value_metrics(f"sqlite:///{data}/mlflow.db"))
        metrics.update(cdnow(Path(tmp)))
    ordered = {k: metrics[k] for k in sorted(metrics, key=lambda k: (k.startswith("cdnow"), k))}
    write_result(
        "value",
        params={
            "horizon_months": 12,
            "demo_cutoff": "the latest with a closed 12-month window (2025-01-01)",
            "cdnow_cutoff": "1997-07-01 (the latest with a closed 12-month window)",
            "clv": "churn.value.clv: margin x survival from the churn model's monthly hazard",
            "baselines": "trailing 12-month margin (_trailing); BG/NBD + Gamma-Gamma (_bgnbd_gg)",
        },
        metrics=ordered,
    )


if __name__ == "__main__":
    main()
