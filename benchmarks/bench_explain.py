"""Reason codes for 100,000 customers against shap.TreeExplainer on the same rows, same run.

The default model is trained on the demo world (20,000 customers); its snapshots are resampled to
CHURN_BENCH_EXPLAIN_ROWS rows (100,000 by default).

Metrics:
- reason_codes_per_s: exact TreeSHAP (XGBoost pred_contribs) plus top-3 actionable reason codes
  with sentences, per customer per second;
- shap_baseline_per_s: `shap.TreeExplainer(booster).shap_values` on the same encoded rows;
- speedup_vs_shap: the ratio; max_abs_shap_diff: how far the two SHAP matrices are apart;
- auc_delta: backtest AUC change from the speed-up (0: the model is untouched).
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


def main() -> None:
    import mlflow
    import shap
    import xgboost

    from churn.dataset import model_inputs
    from churn.explain import fitted_pipeline, reason_codes, tree_shap

    rows = size("CHURN_BENCH_EXPLAIN_ROWS", 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        for step in ("simulate", "validate", "features", "train"):
            run_step(step, data)
        mlflow.set_tracking_uri(f"sqlite:///{data}/mlflow.db")
        version = mlflow.tracking.MlflowClient().get_model_version_by_alias(
            "churn-churn", "champion"
        )
        model = mlflow.sklearn.load_model("models:/churn-churn@champion")
        backtest_auc = mlflow.get_run(version.run_id).data.metrics["roc_auc_mean"]
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

    pipe = fitted_pipeline(model)
    encoded = np.asarray(pipe[:-1].transform(X), dtype=np.float32)
    started = time.perf_counter()
    baseline = shap.TreeExplainer(pipe[-1].get_booster()).shap_values(encoded)
    shap_s = time.perf_counter() - started

    ours_encoded = pipe[-1].get_booster().predict(xgboost.DMatrix(encoded), pred_contribs=True)
    ours_encoded = ours_encoded[:, :-1]
    write_result(
        "explain",
        params={
            "rows": rows,
            "model": "default xgboost (configs/model/xgboost.yaml)",
            "baseline": "shap.TreeExplainer(booster).shap_values, same rows",
        },
        metrics={
            "reason_codes_per_s": rows / ours_s,
            "shap_baseline_per_s": rows / shap_s,
            "speedup_vs_shap": shap_s / ours_s,
            "max_abs_shap_diff": float(np.abs(ours_encoded - baseline).max()),
            "auc_delta": 0.0,
            "customers_with_a_reason": float(codes["reason_1"].notna().mean()),
            "backtest_roc_auc": backtest_auc,
        },
    )


if __name__ == "__main__":
    main()
