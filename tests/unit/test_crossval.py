"""Cross-validated training on a hand-made table: the search, out-of-fold calibration, the guard."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn.errors import ChurnError
from churn.training.crossval import fit_final_cv, run_cross_validation
from churn.training.train import TrainingData, check_mean_probability
from churn.training.tuning import draw_trials

MODEL = {
    "preprocess": "tree",
    "estimator": {
        "_target_": "xgboost.XGBClassifier",
        "n_estimators": 50,
        "max_depth": 2,
        "learning_rate": 0.1,
        "tree_method": "hist",
        "n_jobs": 1,
        "random_state": 0,
    },
    "tune": {
        "trials": 2,
        "max_depth": [2, 4],
        "learning_rate": [0.05, 0.2],
        "early_stopping_rounds": 10,
        "max_estimators": 200,
        "validation_fraction": 0.25,
    },
}


def config(**split) -> dict:
    return {
        "target": {"name": "churn"},
        "model": MODEL,
        "seed": 3,
        "hparams_search": {"n_trials": 0},
        "costs": {"contact_cost": 1.0, "incentive_cost": 4.0, "acceptance_rate": 0.3},
        "split": {
            "cv_folds": 3,
            "cv_repeats": 2,
            "kind": "cv",
            "cv_calibration": "sigmoid",
            "mean_probability_tolerance": 0.25,
            **split,
        },
    }


def table(n: int = 600, leak: bool = False, seed: int = 0) -> TrainingData:
    """Churn driven by complaints and price; optionally a column that records the outcome, with
    rows sorted by it (the order a CRM export often has)."""
    rng = np.random.default_rng(seed)
    complaints = rng.poisson(1.0, n).astype(float)
    price = rng.normal(50, 10, n)
    logit = -2.0 + 0.9 * complaints + 0.04 * (price - 50)
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "cutoff": dt.date(2025, 1, 1),
            "complaints": complaints,
            "price": price,
            "plan": rng.choice(["basic", "premium"], n).astype(object),
            "revenue_12m": price * 12,
            "churn": churn,
        }
    )
    numeric = ["complaints", "price"]
    if leak:
        frame["days_since_cancel"] = np.where(churn == 1, rng.integers(1, 60, n), np.nan)
        frame = frame.sort_values("churn").reset_index(drop=True)
        numeric.append("days_since_cancel")
    return TrainingData(frame, numeric, ["plan"], {"mode": "snapshot"})


def test_trials_spread_depth_over_its_range_and_are_seeded():
    trials = draw_trials({"trials": 4, "max_depth": [2, 6], "learning_rate": [0.05, 0.2]}, 1)
    assert [t["max_depth"] for t in trials] == [2, 3, 5, 6]
    assert all(0.05 <= t["learning_rate"] <= 0.2 for t in trials)
    assert trials == draw_trials(
        {"trials": 4, "max_depth": [2, 6], "learning_rate": [0.05, 0.2]}, 1
    )


def test_search_picks_parameters_and_every_fold_is_fitted_once():
    data = table()
    result, folds = run_cross_validation(data, config(), "revenue_12m")
    assert len(folds) == len(result.folds) == 6
    assert len(result.trials) == 2 and result.params["max_depth"] in (2, 4)
    assert 1 <= result.params["n_estimators"] <= 200
    assert result.raw_oof.shape == (600,) and np.isfinite(result.raw_oof).all()
    assert result.summary["roc_auc_mean"] > 0.65


def test_out_of_fold_calibration_keeps_the_mean_at_the_base_rate_even_with_a_leak():
    for data in (table(), table(leak=True)):
        cfg = config()
        backtest, _ = run_cross_validation(data, cfg, "revenue_12m")
        model = fit_final_cv(data, cfg, backtest)
        p = model.predict_proba(data.frame[data.features])[:, 1]
        assert p.mean() == pytest.approx(data.frame["churn"].mean(), abs=0.02)
        check_mean_probability(model, data, cfg)  # passes


class EveryoneHighRisk:
    """A model that calls every customer 68% likely to leave (the bug this guard catches)."""

    def predict_proba(self, X):
        return np.column_stack([np.full(len(X), 0.32), np.full(len(X), 0.68)])


def test_a_model_whose_mean_is_far_from_the_base_rate_stops_with_both_numbers():
    data = table()
    rate = data.frame["churn"].mean()
    with pytest.raises(ChurnError, match=rf"0\.6800 on the 600 rows.*{rate:.4f} is observed"):
        check_mean_probability(EveryoneHighRisk(), data, config())


def test_the_logistic_baseline_is_calibrated_on_the_score_sklearn_reads():
    """LogisticRegression has decision_function, which sklearn's calibrator reads: fitting the
    calibrator on probabilities instead halves every probability (0.13 for a 0.27 base rate)."""
    from churn.explain.explainer import explain

    data = table()
    logistic = {
        "preprocess": "linear",
        "estimator": {"_target_": "sklearn.linear_model.LogisticRegression", "max_iter": 500},
    }
    cfg = {**config(), "model": logistic}
    backtest, _ = run_cross_validation(data, cfg, "revenue_12m")
    model = fit_final_cv(data, cfg, backtest)
    X = data.frame[data.features]
    p = model.predict_proba(X)[:, 1]
    assert p.mean() == pytest.approx(data.frame["churn"].mean(), abs=0.02)
    np.testing.assert_allclose(explain(model, X).probability, p, atol=1e-9)


def test_too_few_customers_of_a_class_stop_cross_validation_with_the_numbers():
    from churn.training.crossval import check_enough_to_cross_validate

    check_enough_to_cross_validate(np.r_[np.ones(50), np.zeros(500)], 5, "churn")
    with pytest.raises(ChurnError, match=r"10 rows, 3 positive and 7 negative; 5 folds need"):
        check_enough_to_cross_validate(np.r_[np.ones(3), np.zeros(7)], 5, "churn")
    with pytest.raises(ChurnError, match="lower split.cv_folds"):
        check_enough_to_cross_validate(np.r_[np.ones(49), np.zeros(500)], 5, "churn")
