"""`make train` on the demo world, step by step, and XGBoost training throughput.

Metrics:
- make_train_wall_s and peak_rss_mb: the pipeline `make train` runs after install (simulate,
  validate, features, train, uplift, report) in a fresh data folder, each step in its own process;
  per-step seconds and peak memory too;
- fresh_install_s: `pip install -e .` (what `make train` installs) into a throwaway venv with no
  pip cache, from the package registry (CHURN_BENCH_INSTALL=0 skips it);
- train_rows_per_s: the default XGBoost pipeline fitted on 500,000 snapshots x all features
  (the demo world's labelled snapshots, resampled to that size; CHURN_BENCH_TRAIN_ROWS lowers it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import size, write_result

STEPS = ("simulate", "validate", "features", "train", "uplift", "report")
REPO = Path(__file__).resolve().parents[1]
RUN_STEP = (
    "import resource, sys, json, time; from churn.cli import main; t = time.perf_counter(); "
    "rc = main(sys.argv[1:]); print(json.dumps({'rc': rc, 'wall_s': time.perf_counter() - t, "
    "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
)


def run_step(step: str, data: Path, *overrides: str) -> dict:
    args = [step, f"paths.data_dir={data}", *overrides]
    if step == "report":
        args += [f"paths.mlflow_uri=sqlite:///{data}/mlflow.db", f"paths.reports_dir={data}/r"]
    if step in ("train", "uplift"):
        args += [
            f"paths.mlflow_uri=sqlite:///{data}/mlflow.db",
            f"paths.mlflow_artifacts={data}/mlruns",
            f"paths.models_dir={data}/models",
        ]
    out = subprocess.run(
        [sys.executable, "-c", RUN_STEP, *args], check=True, stdout=subprocess.PIPE, text=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"churn {step} failed")
    return result


def train_throughput(data: Path, rows: int) -> float:
    import yaml

    from churn.training.pipeline import build_pipeline
    from churn.training.train import load_training_data

    table = load_training_data(data, "churn")
    sample = table.frame.sample(rows, replace=True, random_state=0)
    model_cfg = yaml.safe_load(
        (Path(__file__).parents[1] / "configs/model/xgboost.yaml").read_text()
    )
    model_cfg["estimator"]["random_state"] = 0
    pipe = build_pipeline(model_cfg, table.numeric, table.categorical)
    started = time.perf_counter()
    pipe.fit(sample[table.features], sample["churn"].astype(int))
    return rows / (time.perf_counter() - started)


def fresh_install(tmp: Path) -> float:
    """Seconds for a new venv plus `pip install -e .` with nothing cached."""
    venv = tmp / "venv"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-cache-dir"]
    subprocess.run([*pip, "-e", str(REPO)], check=True)
    return time.perf_counter() - started


def main() -> None:
    rows = size("CHURN_BENCH_TRAIN_ROWS", 500_000)
    install = size("CHURN_BENCH_INSTALL", 1)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        steps = {step: run_step(step, data) for step in STEPS}
        throughput = train_throughput(data, rows)
        installed = fresh_install(Path(tmp)) if install else None
    metrics = {
        "make_train_wall_s": sum(s["wall_s"] for s in steps.values()),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in steps.values()),
        "train_rows_per_s": throughput,
        **({"fresh_install_s": installed} if installed is not None else {}),
    }
    for step, s in steps.items():
        metrics[f"{step}_wall_s"] = s["wall_s"]
        metrics[f"{step}_peak_rss_mb"] = s["peak_rss_mb"]
    write_result(
        "train",
        params={
            "world": "demo (20,000 customers, 24 cutoffs)",
            "throughput_rows": rows,
            "model": "xgboost (configs/model)",
        },
        metrics=metrics,
    )


if __name__ == "__main__":
    main()
