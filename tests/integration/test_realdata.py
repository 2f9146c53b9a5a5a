"""Real public data through the same pipeline, by configuration alone (../shared/data).

IBM Telco is a snapshot table: `data=telco` maps its columns to features; evaluation is stratified
5-fold cross-validation repeated 3 times. Skipped where the shared data is absent (a user's clone);
CI sets CHURN_REQUIRE_REALDATA=1, which turns that skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from churn.train import train
from tests.conftest import churn, train_config

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
TELCO_TARGET_AUC = 0.845  # the plain logistic reference under this protocol


def require(path: Path) -> None:
    if path.exists():
        return
    if os.environ.get("CHURN_REQUIRE_REALDATA"):
        pytest.fail(f"CHURN_REQUIRE_REALDATA is set but {path} is missing")
    pytest.skip(f"{path} not found: real-data tests need ../shared/data beside the clone")


@pytest.fixture(scope="module")
def telco(tmp_path_factory):
    """Telco validated, featured, and trained with XGBoost and the logistic baseline."""
    require(SHARED / "telco" / "Telco-Customer-Churn.csv")
    root = tmp_path_factory.mktemp("telco")
    previous = os.environ.get("CHURN_SHARED_DATA")
    os.environ["CHURN_SHARED_DATA"] = str(SHARED)
    try:
        data = root / "data"
        for step in ("validate", "features"):
            out = churn(step, "data=telco", f"paths.data_dir={data}")
            assert out.returncode == 0, out.stderr
        runs = {
            model: train(train_config(data, root, "data=telco", f"model={model}"))
            for model in ("xgboost", "logreg")
        }
        yield data, root, runs
    finally:
        if previous is None:
            os.environ.pop("CHURN_SHARED_DATA", None)
        else:
            os.environ["CHURN_SHARED_DATA"] = previous


def test_telco_is_loaded_with_declared_blank_rules_and_no_silent_drops(telco):
    data, _, _ = telco
    (part,) = (data / "features").glob("cutoff=*/part-0.parquet")
    frame = pq.ParquetFile(part).read().to_pandas()
    assert len(frame) == 7043  # every customer; TotalCharges blanks became 0 by the declared rule
    assert (frame.loc[frame["tenure"] == 0, "TotalCharges"] == 0).all()
    assert frame["churn"].mean() == pytest.approx(0.265, abs=0.001)


def test_telco_cross_validated_auc_reaches_the_logistic_reference(telco):
    _, _, runs = telco
    best = max(metrics["roc_auc_mean"] for metrics, _ in runs.values())
    assert best >= TELCO_TARGET_AUC, {m: r[0]["roc_auc_mean"] for m, r in runs.items()}
    for metrics, objects in runs.values():
        assert len(objects["backtest"].folds) == 15  # 5 folds x 3 repeats
        assert objects["model_name"] == "telco-churn"
        for key in ("pr_auc_mean", "lift_10_mean", "brier_mean", "roc_auc_std"):
            assert key in metrics


def test_telco_report_and_scores_build(telco):
    data, root, _ = telco
    uri = f"sqlite:///{root}/mlflow.db"
    out = churn(
        "report",
        "data=telco",
        f"paths.data_dir={data}",
        f"paths.reports_dir={root}/reports",
        f"mlflow.tracking_uri={uri}",
    )
    assert out.returncode == 0, out.stderr
    html = (root / "reports" / "retention_report.html").read_text()
    assert "weak service bonds" in html and "telco-churn" in html
    out = churn(
        "score",
        "data=telco",
        f"paths.data_dir={data}",
        f"paths.scores_dir={root}/scores",
        f"mlflow.tracking_uri={uri}",
    )
    assert out.returncode == 0, out.stderr
    scores = pd.read_csv(root / "scores" / "as_of=2020-01-01" / "scores.csv")
    assert len(scores) == 7043 and scores["reason_1"].notna().mean() > 0.9
