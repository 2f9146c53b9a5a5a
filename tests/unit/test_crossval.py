"""Cross-validated training on a hand-made table: the search, out-of-fold calibration, the guard."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from churn.errors import ChurnError
from churn.training.blend import BLEND_TARGET
from churn.training.crossval import fit_final_cv, run_cross_validation
from churn.training.train import TrainingData, check_mean_probability
from churn.training.tree_search import choose, draw_params

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
    "search": {
        "budget_s": 0,
        "max_trials": 4,
        "inner_folds": 3,
        "max_rows": 100000,
        "max_estimators": 300,
        "early_stopping_rounds": 15,
        "ensemble": True,
        "weight_step": 0.5,
        "ensemble_min_gain": 0.0,
        "kinds": {
            "xgboost": {
                "estimator": {
                    "_target_": "xgboost.XGBClassifier",
                    "n_jobs": 1,
                    "random_state": 0,
                },
                "space": {"max_depth": [2, 4], "learning_rate": [0.05, 0.2]},
            },
            "lightgbm": {
                "estimator": {
                    "_target_": "lightgbm.LGBMClassifier",
                    "verbose": -1,
                    "n_jobs": 1,
                    "random_state": 0,
                },
                "space": {"num_leaves": [4, 16], "learning_rate": [0.05, 0.2]},
            },
        },
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
            "cv_one_repeat_rows": 200_000,
            "group_copies": True,
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


def test_trials_start_in_the_middle_of_each_space_then_draw_with_the_seed():
    space = {"max_depth": [2, 6], "learning_rate": [0.05, 0.2]}
    assert draw_params(space, np.random.default_rng(1), first=True) == {
        "max_depth": 4,
        "learning_rate": 0.1,
    }
    drawn = [draw_params(space, np.random.default_rng(1), first=False) for _ in range(2)]
    assert drawn[0] == drawn[1] and 2 <= drawn[0]["max_depth"] <= 6
    assert 0.05 <= drawn[0]["learning_rate"] <= 0.2


def test_search_tries_each_kind_and_every_fold_is_fitted_once():
    data = table()
    result, folds = run_cross_validation(data, config(), "revenue_12m")
    assert len(folds) == len(result.folds) == 6
    # a budget of 0 s: the first trial of each kind, and no more
    assert [t["kind"] for t in result.trials] == ["xgboost", "lightgbm"]
    assert all(1 <= t["params"]["trees"] <= 300 for t in result.trials)
    target = result.params["_target_"]
    assert target in {"xgboost.XGBClassifier", "lightgbm.LGBMClassifier", BLEND_TARGET}
    assert result.raw_oof.shape == (600,) and np.isfinite(result.raw_oof).all()
    assert result.summary["roc_auc_mean"] > 0.65


def test_the_blend_is_chosen_only_when_it_beats_the_best_kind_out_of_fold():
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 150)
    parts = [(None, None, None, None, np.arange(i, 300, 3)) for i in range(3)]
    noisy = y + rng.normal(0, 1.0, 300)
    best = {
        "xgboost": {
            "inner_roc_auc": 0.8,
            "oof": noisy,
            "estimator": {"_target_": "x"},
            "tree_row_s": 1e-6,
            "trees": 100,
        },
        "lightgbm": {
            "inner_roc_auc": 0.7,
            "oof": y + rng.normal(0, 1.0, 300),
            "estimator": {"_target_": "l"},
            "tree_row_s": 1e-5,
            "trees": 100,
        },
    }
    search = {"ensemble": True, "weight_step": 0.5, "ensemble_min_gain": 0.0}
    blended = choose(best, y, parts, search, [], 300)
    assert blended.estimator["_target_"] == BLEND_TARGET and blended.weights == {
        "xgboost": 0.5,
        "lightgbm": 0.5,
    }
    best["lightgbm"]["oof"] = noisy * 0.5 + 3  # the same ranking: blending cannot help
    single = choose(best, y, parts, search, [], 300)
    assert single.estimator == {"_target_": "x"} and single.weights == {"xgboost": 1.0}
    # a blend the later fits cannot afford (1e-5 s a tree a row: 100 s a fit for lightgbm) is
    # passed over, and so is a slow kind that would otherwise be best
    best["lightgbm"]["oof"] = y + rng.normal(0, 1.0, 300)
    tight = {**search, "fit_budget_s": 50.0}
    assert choose(best, y, parts, tight, [], 300, plan=(100_000, 1)).weights == {"xgboost": 1.0}
    best["lightgbm"]["inner_roc_auc"] = 0.9
    assert choose(best, y, parts, tight, [], 300, plan=(100_000, 1)).weights == {"xgboost": 1.0}


def twins(n: int = 300, copies: int = 2, seed: int = 1) -> TrainingData:
    """Customers whose churn is mostly noise, each present `copies` times with its own id: a
    model that memorises rows looks good only when a twin is on the other side of the fold."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {
            "complaints": rng.poisson(1.0, n).astype(float),
            "price": rng.normal(50, 10, n).round(2),
            "plan": rng.choice(["basic", "premium"], n).astype(object),
        }
    )
    logit = -1.0 + 0.4 * base["complaints"]
    base["churn"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    frame = pd.concat([base] * copies, ignore_index=True)
    frame.insert(0, "customer_id", [f"c{i}" for i in range(len(frame))])
    frame["cutoff"] = dt.date(2025, 1, 1)
    frame["revenue_12m"] = frame["price"] * 12
    return TrainingData(frame, ["complaints", "price"], ["plan"], {"mode": "snapshot"})


def test_copies_stay_in_one_fold_and_give_the_honest_lower_roc_auc():
    deep = {
        "preprocess": "tree",
        "estimator": {
            "_target_": "xgboost.XGBClassifier",
            "n_estimators": 200,
            "max_depth": 6,
            "min_child_weight": 1,
            "n_jobs": 1,
            "random_state": 0,
        },
    }
    data = twins()
    grouped, folds = run_cross_validation(data, {**config(), "model": deep}, "revenue_12m")
    assert data.meta["copies_in_inputs"] == 300
    twin_of = np.arange(600) % 300
    for fold in folds:
        assert not set(twin_of[fold.test]) & set(twin_of[fold.fit])
    split = {**config()["split"], "group_copies": False}
    leaky, _ = run_cross_validation(
        twins(), {**config(), "model": deep, "split": split}, "revenue_12m"
    )
    honest, seen = grouped.summary["roc_auc_mean"], leaky.summary["roc_auc_mean"]
    assert honest < 0.70 < seen and seen - honest > 0.1


def test_auto_calibration_keeps_the_ranking_unless_isotonic_measures_better():
    data = table()
    cfg = {**config(), "model": {**MODEL, "search": None}}
    cfg["split"] = {**cfg["split"], "cv_calibration": "auto"}
    result, _ = run_cross_validation(data, cfg, "revenue_12m")
    measured = result.calibration["measured"]
    assert set(measured) == {"sigmoid", "isotonic"}
    iso, sig = measured["isotonic"], measured["sigmoid"]
    expected = (
        "isotonic"
        if iso["brier"] < sig["brier"] and iso["roc_auc"] >= sig["roc_auc"]
        else "sigmoid"
    )
    assert result.calibration["method"] == expected
    # isotonic's steps tie customers: its out-of-fold ROC-AUC is never above the sigmoid's here
    assert iso["roc_auc"] <= sig["roc_auc"]


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
