"""A user's own messy customer table, in two lines of config, through the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, churn

pytestmark = pytest.mark.slow


def messy_table(n: int = 800, seed: int = 5) -> pd.DataFrame:
    """What an export looks like: NA and Unknown tokens, 1.0/0.0 labels, duplicated rows, and
    rows copied under a new account number."""
    rng = np.random.default_rng(seed)
    care = rng.poisson(1.2, n)
    fee = rng.normal(60, 15, n).round(2)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    logit = -1.6 + 0.7 * care + 0.03 * (fee - 60) - 1.2 * (contract == "Two year")
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    price = rng.integers(50, 400, n).astype(str).astype(object)
    price[rng.random(n) < 0.4] = "Unknown"
    frame = pd.DataFrame(
        {
            "Account Number": [f"A-{i:05d}" for i in range(n)],
            "Tenure": rng.integers(1, 72, n).astype(str),
            "MonthlyCharges": fee.astype(str),
            "Contract": contract,
            "CustomerCareCalls": care.astype(str),
            "HandsetPrice": price,
            "Notes": ["ok"] * n,
            "Churn": np.where(churned, "1.0", "0.0"),
        }
    )
    frame.loc[rng.choice(n, 30, replace=False), "MonthlyCharges"] = "NA"
    twins = frame.iloc[100:120].assign(**{"Account Number": [f"B-{i:05d}" for i in range(20)]})
    return pd.concat([frame, frame.iloc[:25], twins], ignore_index=True)  # 25 exact duplicates


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A copy of configs/ with the user's two-line data config, and the table beside it."""
    root = tmp_path_factory.mktemp("own_table")
    configs = root / "configs"
    shutil.copytree(REPO / "configs", configs)
    table = root / "my_customers.csv"
    messy_table().to_csv(table, index=False)
    (configs / "data" / "mytable.yaml").write_text(
        f"snapshot: {{path: {table}, label: {{column: Churn}}}}\n"
    )
    return root


def run(workspace: Path, *args: str):
    common = [
        "data=mytable",
        f"paths.data_dir={workspace}/data",
        f"paths.mlflow_uri=sqlite:///{workspace}/mlflow.db",
        f"paths.mlflow_artifacts={workspace}/mlruns",
        f"paths.models_dir={workspace}/models",
        f"paths.reports_dir={workspace}/reports",
        f"paths.scores_dir={workspace}/scores",
    ]
    return churn(*args, *common, cwd=workspace)


def test_two_lines_train_report_and_score(workspace):
    for step in ("validate", "features", "train", "report", "score"):
        out = run(workspace, step)
        assert out.returncode == 0, f"{step}: {out.stderr[-3000:]}"
        if step == "validate":
            log = out.stdout + out.stderr
    assert "25 exact duplicate row(s)" in log and "id: Account Number" in log
    inferred = yaml.safe_load((workspace / "data" / "inferred.yaml").read_text())["snapshot"]
    assert inferred["label"]["positive"] == "1.0"
    assert inferred["features"]["HandsetPrice"]["missing_tokens"] == ["Unknown"]
    assert "Notes" not in inferred["features"]  # constant: dropped with a line
    assert inferred["value"]["column"] == "MonthlyCharges"
    report = json.loads((workspace / "data" / "validation_report.json").read_text())
    assert report["tables"]["snapshot"]["rows_loaded"] == 820  # NA and Unknown are missing
    assert report["checks"]["duplicate_rows_kept_once"] == 25
    copies = report["checks"]["copies_but_id"]
    assert copies["rows"] == 40 and copies["sets"] == 20
    assert copies["examples"][0] == ["A-00100", "B-00000"]
    (folder,) = (workspace / "scores").glob("as_of=*")
    scores = pd.read_csv(folder / "scores.csv")
    assert len(scores) == 820 and scores["customer_id"].is_unique
    html = (workspace / "reports" / "retention_report.html").read_text()
    assert "likely to have churned" in html and "mytable-churn" in html
    assert "40 rows in 20 sets are identical in every column but the id" in html


def test_a_leaking_column_stops_validate_and_changes_nothing(workspace, tmp_path):
    leaky = messy_table().assign(CancelReason=lambda f: np.where(f["Churn"] == "1.0", "price", ""))
    path = tmp_path / "leaky.csv"
    leaky.to_csv(path, index=False)
    data = tmp_path / "data"
    out = churn(
        "validate",
        "data=mytable",
        f"data.snapshot.path={path}",
        f"paths.data_dir={data}",
        cwd=workspace,
    )
    assert out.returncode == 2
    assert "CancelReason (ROC-AUC 1.0000" in out.stderr
    assert "data.snapshot.exclude: [CancelReason]" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (data / "validation_report.json").exists()
    assert not (data / "inferred.yaml").exists()
