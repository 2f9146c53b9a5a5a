"""AutoGluon on the very folds the default model was cross-validated on.

Run by `benchmarks/bench_realdata.py` with the peers' own Python (benchmarks/peers/.venv), never
imported by churn. Reads a parquet of the model's inputs, the label and a `fold` column (the test
fold of each row), fits `TabularPredictor(presets="medium_quality", time_limit=<s>)` on the other
folds and writes each fold's ROC-AUC and fit seconds as JSON.

    python autogluon_folds.py table.parquet result.json --time-limit 30
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import pandas as pd
from autogluon.tabular import TabularPredictor
from sklearn.metrics import roc_auc_score


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("table")
    parser.add_argument("result")
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args()
    frame = pd.read_parquet(args.table)
    folds = []
    for fold in sorted(frame["fold"].unique()):
        train = frame[frame["fold"] != fold].drop(columns="fold")
        test = frame[frame["fold"] == fold].drop(columns="fold")
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as where:
            predictor = TabularPredictor(
                label="churn", eval_metric="roc_auc", path=where, verbosity=0
            ).fit(train, presets="medium_quality", time_limit=args.time_limit)
            fit_s = time.perf_counter() - started
            p = predictor.predict_proba(test.drop(columns="churn"))[1]
        auc = float(roc_auc_score(test["churn"], p))
        folds.append({"fold": int(fold), "roc_auc": auc, "fit_s": fit_s})
        print(f"fold {fold}: roc_auc {auc:.4f} in {fit_s:.0f} s", flush=True)
    with open(args.result, "w") as out:
        json.dump({"folds": folds, "time_limit_s": args.time_limit}, out, indent=2)


if __name__ == "__main__":
    main()
