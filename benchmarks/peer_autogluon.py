"""AutoGluon beside the default model, on the very folds the default was cross-validated on.

AutoGluon lives in its own environment (`make peers` builds benchmarks/peers/.venv from
benchmarks/peers/requirements.txt), never in the project's. For a cross-validated dataset this
rebuilds the default run's first repeat of folds with churn's own functions (the same rows, copies
grouped the same way), hands the model's inputs and each row's fold to
`benchmarks/peers/autogluon_folds.py` (medium_quality, 30 s a fold), and reads the default's
ROC-AUC on those same five folds from the training run's fold runs in MLflow.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

PEERS = Path(__file__).resolve().parent / "peers"
PYTHON = PEERS / ".venv" / "bin" / "python"
TIME_LIMIT_S = 30


def available() -> bool:
    return PYTHON.exists()


def first_repeat_folds(data_dir: Path, seed: int = 42):
    """The training frame, its features and each row's test fold in the first repeat, exactly as
    `churn train` drew them (default split: 5 folds x 3, copies grouped)."""
    from churn.training.backtest import copy_groups, cv_folds
    from churn.training.train import load_training_data

    data = load_training_data(data_dir, "churn")
    y = data.frame["churn"].astype(int).to_numpy()
    groups = copy_groups(data.frame, data.features)
    fold_of = np.zeros(len(y), dtype=int)
    for fold in cv_folds(y, 5, 3, seed, groups):
        if fold.repeat == 1:
            fold_of[fold.test] = fold.number
    return data, fold_of


def default_same_folds(uri: str, experiment: str) -> list[float]:
    """The default model's ROC-AUC on each fold of the first repeat, from its fold runs."""
    import mlflow

    client = mlflow.tracking.MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    first = [r for r in children if r.data.params.get("repeat") == "1"]
    return [r.data.metrics["roc_auc"] for r in first]


def peer_metrics(name: str, data_dir: Path, uri: str, experiment: str) -> dict[str, float]:
    """`<name>_autogluon_roc_auc_mean` and the default's on the same folds, with fit times."""
    data, fold_of = first_repeat_folds(data_dir)
    table = data.frame[data.features].copy()
    for column in data.categorical:
        table[column] = table[column].astype("string")
    table["churn"] = data.frame["churn"].astype(int).to_numpy()
    table["fold"] = fold_of
    with tempfile.TemporaryDirectory() as tmp:
        inputs, result = Path(tmp) / "table.parquet", Path(tmp) / "result.json"
        table.to_parquet(inputs, index=False)
        subprocess.run(
            [
                str(PYTHON),
                str(PEERS / "autogluon_folds.py"),
                str(inputs),
                str(result),
                "--time-limit",
                str(TIME_LIMIT_S),
            ],
            check=True,
        )
        folds = json.loads(result.read_text())["folds"]
    peer = [f["roc_auc"] for f in folds]
    mine = default_same_folds(uri, experiment)
    return {
        f"{name}_autogluon_roc_auc_mean": float(np.mean(peer)),
        f"{name}_autogluon_roc_auc_std": float(np.std(peer, ddof=1)),
        f"{name}_autogluon_fit_s": float(sum(f["fit_s"] for f in folds)),
        f"{name}_default_roc_auc_same_folds": float(np.mean(mine)),
        f"{name}_default_minus_autogluon": float(np.mean(mine) - np.mean(peer)),
    }
