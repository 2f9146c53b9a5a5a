"""Hillstrom, a real randomized e-mail test on 64,000 customers, through `data=hillstrom`: the
test is checked, the churn model learns risk without contact from the control group, the
response model learns whom each e-mail moves, and the call list offers each customer's best
e-mail. Skipped like every real-data test where ../shared/data is absent."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from churn.training.train import train
from tests.conftest import churn, train_config
from tests.integration.test_realdata import SHARED, load_date, prepare, require, shared_data

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
# the benchmark runs the full protocol (S, T, X and DR; 3 inner folds; 2 repeats; 200 resamples)
FAST = (
    "uplift.repeats=1",
    "uplift.bootstrap=100",
    "uplift.inner_folds=2",
    "uplift.choose_from=[s,t]",
)


@pytest.fixture(scope="module")
def hillstrom(tmp_path_factory):
    require(SHARED / "hillstrom" / "hillstrom.csv")
    root = tmp_path_factory.mktemp("hillstrom")
    with shared_data():
        data = root / "data"
        logs = prepare(data, "hillstrom")
        train(train_config(data, root, "data=hillstrom"))
        common = (
            "data=hillstrom",
            f"paths.data_dir={data}",
            f"mlflow.tracking_uri=sqlite:///{root}/mlflow.db",
        )
        out = churn("uplift", *common, f"paths.models_dir={root}/models", *FAST)
        assert out.returncode == 0, out.stderr[-3000:]
        for step, paths in (("score", "scores_dir"), ("report", "reports_dir")):
            out = churn(step, *common, f"paths.{paths}={root}/{step}s")
            assert out.returncode == 0, out.stderr[-3000:]
        yield data, root, logs


@pytest.mark.xdist_group("hillstrom")
def test_the_test_is_checked_and_columns_recorded_after_it_left_out(hillstrom):
    data, _, logs = hillstrom
    report = json.loads((data / "validation_report.json").read_text())
    test = report["checks"]["experiment"]
    assert test["arms"] == {"Mens E-Mail": 21307, "No E-Mail": 21306, "Womens E-Mail": 21387}
    assert not test["sample_ratio"]["mismatch"]
    assert set(test["unbalanced"]) == {"conversion", "spend"}  # recorded after the e-mail
    assert report["tables"]["snapshot"]["rows_loaded"] == 64000  # identical rows are customers
    assert report["checks"]["identical_rows_kept"] == 6562
    features = set(report["snapshot"]["features"])
    assert not features & {"conversion", "spend", "segment", "visit"}
    assert report["snapshot"]["value"]["column"] == "history"
    assert "left out of features and value" in logs["validate"]


@pytest.mark.xdist_group("hillstrom")
def test_the_response_model_beats_random_and_risk_on_the_womens_e_mail(hillstrom):
    data, _, _ = hillstrom
    report = json.loads((data / "uplift_report.json").read_text())
    assert set(report["actions"]) == {"Mens E-Mail", "Womens E-Mail"}
    womens = report["actions"]["Womens E-Mail"]
    assert womens["qini_ci_low"] > max(womens["random"]["qini_ci_high"], womens["risk"]["qini"])
    assert womens["uplift_at_30"] > womens["random"]["uplift_at_30"]
    for e in report["actions"].values():  # every figure comes with its interval
        for ranking in (e, e["random"], e["risk"]):
            assert ranking["qini_ci_low"] <= ranking["qini_ci_high"]
            assert ranking["uplift_at_30_ci_low"] <= ranking["uplift_at_30_ci_high"]
    best = report["best_action"]
    assert sum(best["shares"].values()) == pytest.approx(1.0)


@pytest.mark.xdist_group("hillstrom")
def test_the_call_list_offers_the_best_e_mail_and_never_a_harmful_one(hillstrom):
    data, root, _ = hillstrom
    folder = root / "scores" / f"as_of={load_date(data)}"
    scores = pd.read_csv(folder / "scores.csv")
    calls = pd.read_csv(folder / "call_list.csv")
    assert len(scores) == 64000 and len(calls) == 500
    assert set(calls["uplift_action"]) <= {"Mens E-Mail", "Womens E-Mail"}
    assert (calls["uplift"] > 0).all()  # never a contact predicted to push a customer away
    ranked = calls.head(int(500 * (1 - 0.05)))  # score.explore_fraction goes at random, last
    assert ranked["expected_net_value"].is_monotonic_decreasing
    summary = json.loads((folder / "summary.json").read_text())["call_list"]
    assert summary["policy"] == "uplift_value"
    parts = pd.concat(pd.read_parquet(p) for p in sorted(folder.glob("part-*.parquet")))
    held = parts[parts["holdout"]]
    assert len(held) > 0 and (held["treatment_group"] != "call").all()
    html = (root / "reports" / "retention_report.html").read_text()
    assert "Who does a contact move?" in html and "Randomized test in segment" in html
    assert 'id="uplift-qini-1"' in html
