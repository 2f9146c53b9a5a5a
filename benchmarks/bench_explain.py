"""Reason codes for 100,000 customers against shap.TreeExplainer on the same rows, same run.

Two models are trained on the demo world (20,000 customers): the default (`model=xgboost`, depth 2,
chosen with its explanation cost in view) and the reference it replaced (`model=xgboost_deep`,
depth 4). Snapshots are resampled to CHURN_BENCH_EXPLAIN_ROWS rows (100,000 by default).

Metrics:
- reason_codes_per_s: exact TreeSHAP (XGBoost's, tabulated per split-grid cell for the shallow
  default model) plus top-3 actionable reason codes with sentences, per customer per second;
- shap_baseline_per_s: `shap.TreeExplainer(booster).shap_values` on the same rows for the reference
  model (what explaining cost before the speed-up); speedup_vs_shap: the ratio;
- shap_same_model_per_s, speedup_vs_shap_same_model: the same baseline on the default model;
- max_abs_shap_diff: ours against shap on the default model (exactness);
- auc_delta: backtest ROC-AUC of the default minus the reference (budget: > -0.005).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_train import run_step
from common import size, write_result


def load_champion(data: Path, prefix: str):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{data}/mlflow.db")
    name = f"{prefix}-churn"
    version = mlflow.tracking.MlflowClient().get_model_version_by_alias(name, "champion")
    model = mlflow.sklearn.load_model(f"models:/{name}@champion")
    return model, mlflow.get_run(version.run_id).data.metrics["roc_auc_mean"]


def shap_baseline_s(model, X: pd.DataFrame) -> tuple[float, np.ndarray]:
    import shap

    from churn.explain.explainer import fitted_pipeline

    pipe = fitted_pipeline(model)
    encoded = np.asarray(pipe[:-1].transform(X), dtype=np.float32)
    started = time.perf_counter()
    values = shap.TreeExplainer(pipe[-1].get_booster()).shap_values(encoded)
    return time.perf_counter() - started, values


def main() -> None:
    from churn.explain.explainer import fitted_pipeline, reason_codes, tree_shap
    from churn.explain.shap_table import shap_by_column
    from churn.training.pipeline import model_inputs

    rows = size("CHURN_BENCH_EXPLAIN_ROWS", 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        for step in ("simulate", "validate", "features", "train"):
            run_step(step, data)
        run_step("train", data, "model=xgboost_deep", "mlflow.model_prefix=reference")
        model, auc = load_champion(data, "churn")
        reference, reference_auc = load_champion(data, "reference")
        meta = json.loads((data / "features" / "catalog.json").read_text())
        frame = pd.concat(
            pd.read_parquet(data / "features" / f"cutoff={c}" / "part-0.parquet")
            for c in meta["cutoffs"][-6:]
        )
    X = model_inputs(frame.sample(rows, replace=True, random_state=0), meta["features"])
    X.index = range(len(X))

    started = time.perf_counter()
    explanation = tree_shap(model, X)
    codes = reason_codes(explanation, X, meta["features"])
    ours_s = time.perf_counter() - started

    baseline_s, _ = shap_baseline_s(reference, X)
    same_s, same_values = shap_baseline_s(model, X)
    pipe = fitted_pipeline(model)
    encoded = np.asarray(pipe[:-1].transform(X), dtype=np.float32)
    ours_encoded, _ = shap_by_column(pipe[-1].get_booster(), encoded)  # the tabulated path
    write_result(
        "explain",
        params={
            "rows": rows,
            "model": "default xgboost (configs/model/xgboost.yaml, depth 2)",
            "reference": "xgboost_deep (configs/model/xgboost_deep.yaml, depth 4)",
            "baseline": "shap.TreeExplainer(booster).shap_values, same rows",
        },
        metrics={
            "reason_codes_per_s": rows / ours_s,
            "shap_baseline_per_s": rows / baseline_s,
            "speedup_vs_shap": baseline_s / ours_s,
            "shap_same_model_per_s": rows / same_s,
            "speedup_vs_shap_same_model": same_s / ours_s,
            "max_abs_shap_diff": float(np.abs(ours_encoded - same_values).max()),
            "auc_delta": auc - reference_auc,
            "backtest_roc_auc": auc,
            "reference_backtest_roc_auc": reference_auc,
            "customers_with_a_reason": float(codes["reason_1"].notna().mean()),
        },
    )


if __name__ == "__main__":
    main()
