"""The retention loop on a simulated world whose call effects are known: who the calls should go
to, and whether `churn outcomes` measures what they did.

World: the demo world (CHURN_BENCH_UPLIFT_CUSTOMERS customers, default 40,000) with its history
of randomized retention calls; features, the churn champion and the response model
(`churn uplift`) as the product builds them.

Metrics:
- qini_uplift / qini_risk: out-of-time Qini coefficients (the latest 6 cutoffs with tests held
  out) of the response model's ranking and of the churn champion's risk;
- at CUTOFF (the latest whose 12-month value window has closed), the response model refitted on
  tests before it, lists of the same capacity by `score.policy=expected_loss` (risk x CLV),
  `uplift_value` and an oracle (true effect x true future value): value saved is the true drop
  in the month's churn probability times the customer's realized 12-month revenue, summed over
  the called. saved_value_ratio_vs_risk = uplift_value / expected_loss; oracle_fraction =
  uplift_value / oracle; negative_effect_share: called customers a call truly pushes to leave;
- the closed loop: the world re-run with the product's list at LOOP_AS_OF called;
  `churn outcomes` measures the call's effect (ate_ci_low, ate_ci_high) against the planted one
  over the called (ate_true).
The churn champion is trained on every cutoff, after CUTOFF too: if anything that favours the
risk ranking, so the ratio is conservative.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from bench_train import run_step
from common import size, write_result

ROOT = Path(__file__).resolve().parents[1]
CUTOFF = "2024-12-01"
LOOP_AS_OF = "2025-10-01"
SEED = 42


def churn(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "churn.cli", *args], check=True, cwd=ROOT)


def tracked(data: Path) -> list[str]:
    return [
        f"paths.data_dir={data}",
        f"mlflow.tracking_uri=sqlite:///{data}/mlflow.db",
        f"paths.mlflow_artifacts={data}/mlruns",
        f"paths.models_dir={data}/models",
    ]


def latest_uplift_run(data: Path) -> tuple[dict, str]:
    """Metrics and registered version of the newest response model."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{data}/mlflow.db"
    client = MlflowClient(uri, registry_uri=uri)
    versions = client.search_model_versions("name='churn-retention_uplift'")
    newest = max(versions, key=lambda v: int(v.version))
    return client.get_run(newest.run_id).data.metrics, newest.version


def read_list(scores: Path, as_of: str) -> pd.DataFrame:
    folder = scores / f"as_of={as_of}"
    parts = sorted(folder.glob("part-*.parquet"))
    return pd.concat(pq.ParquetFile(p).read().to_pandas() for p in parts)


def truth_at(data: Path, as_of: str) -> pd.DataFrame:
    hz = pd.read_parquet(data / "raw" / "ground_truth_hazard.parquet")
    hz = hz[hz.month_start == pd.Timestamp(as_of).date()]
    effect = hz.churn_hazard_untreated - hz.churn_hazard_called
    return pd.DataFrame({"customer_id": hz.customer_id, "true_effect": effect})


def saved_by_policy(data: Path, version: str, n: int) -> dict:
    """Value saved at CUTOFF by each policy's call group, from the true effects."""
    capacity = max(100, n // 40)
    scores = data / "scores-policies"
    lists = {}
    for policy in ("expected_loss", "uplift_value"):
        out = scores / policy
        churn(
            "score",
            *tracked(data)[:2],
            f"paths.scores_dir={out}",
            f"score.as_of={CUTOFF}",
            f"score.policy={policy}",
            f"score.capacity={capacity}",
            "score.with_reasons=false",
            f"score.uplift_model_uri=models:/churn-retention_uplift/{version}",
            "score.publish_table=false",
        )
        lists[policy] = read_list(out, CUTOFF)
    feats = pd.read_parquet(data / "features" / f"cutoff={CUTOFF}" / "part-0.parquet")
    truth = truth_at(data, CUTOFF).merge(feats[["customer_id", "future_value"]], on="customer_id")
    truth["worth"] = truth.true_effect * truth.future_value.fillna(0.0)
    saved = {}
    for policy, frame in lists.items():
        called = frame[frame.treatment_group == "call"][["customer_id"]].merge(truth)
        saved[policy] = called.worth.sum()
        if policy == "uplift_value":
            negative = float((called.true_effect < 0).mean())
            n_called = len(called)
    oracle = truth.nlargest(n_called, "worth").worth.clip(lower=0).sum()
    return {
        "capacity": capacity,
        "saved_value_risk": saved["expected_loss"],
        "saved_value_uplift": saved["uplift_value"],
        "saved_value_oracle": oracle,
        "saved_value_ratio_vs_risk": saved["uplift_value"] / saved["expected_loss"],
        "oracle_fraction": saved["uplift_value"] / oracle,
        "negative_effect_share": negative,
    }


def closed_loop(data: Path, n: int) -> dict:
    """The product's list at LOOP_AS_OF called by the world, then measured by churn outcomes."""
    scores = data / "scores-loop"
    churn(
        "score",
        *tracked(data)[:2],
        f"paths.scores_dir={scores}",
        f"score.as_of={LOOP_AS_OF}",
        f"score.capacity={max(200, n // 20)}",
        "score.holdout_fraction=0.3",
        "score.with_reasons=false",
        "score.publish_table=false",
    )
    called = data.parent / "called"
    churn(
        "simulate",
        f"paths.data_dir={called}",
        f"n_customers={n}",
        f"seed={SEED}",
        f"retention.call_lists={scores}",
    )
    churn("validate", f"paths.data_dir={called}")
    outcomes = data.parent / "outcomes"
    churn(
        "outcomes",
        f"paths.data_dir={called}",
        f"paths.scores_dir={scores}",
        f"paths.outcomes_dir={outcomes}",
        f"mlflow.tracking_uri=sqlite:///{data}/mlflow.db",
        "outcomes.log_to_mlflow=false",
    )
    result = json.loads((outcomes / f"as_of={LOOP_AS_OF}" / "outcomes.json").read_text())
    listed = read_list(scores, LOOP_AS_OF)
    truth = truth_at(called, LOOP_AS_OF)
    on_list = listed[listed.treatment_group == "call"][["customer_id"]].merge(truth)
    low, high = result["effect"]["churn_reduction_ci"]
    return {
        "ate_true": float(on_list.true_effect.mean()),
        "ate_measured": result["effect"]["churn_reduction"],
        "ate_ci_low": low,
        "ate_ci_high": high,
        "ate_called": result["effect"]["called"],
        "ate_control": result["effect"]["control"],
    }


def main() -> None:
    n = size("CHURN_BENCH_UPLIFT_CUSTOMERS", 40_000)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "world"
        run_step("simulate", data, f"n_customers={n}", f"seed={SEED}")
        for step in ("validate", "features", "train"):
            run_step(step, data)
        churn("uplift", *tracked(data))
        qini, _ = latest_uplift_run(data)
        churn("uplift", *tracked(data), f"uplift.until={CUTOFF}")
        _, version = latest_uplift_run(data)
        metrics = {
            "qini_uplift": qini["qini_uplift"],
            "qini_risk": qini["qini_risk"],
            "qini_check_rows": qini["check_rows"],
        }
        metrics.update(saved_by_policy(data, version, n))
        metrics.update(closed_loop(data, n))
        shutil.rmtree(data, ignore_errors=True)
    write_result(
        "uplift",
        params={
            "customers": n,
            "seed": SEED,
            "policy_cutoff": CUTOFF,
            "loop_as_of": LOOP_AS_OF,
            "learner": "econml XLearner, XGBoost outcome and effect models (configs/uplift)",
            "value_saved": "true effect x realized 12-month revenue, summed over the called",
        },
        metrics={k: float(v) if isinstance(v, np.floating) else v for k, v in metrics.items()},
    )


if __name__ == "__main__":
    main()
