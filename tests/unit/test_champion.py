"""The champion rule on hand-made folds: unseen cutoffs are the fair ground when there are any."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from churn.training import champion

CUTOFFS = [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)]


class Registry:
    """The two MLflow client calls the rule makes, for a champion trained up to `last`."""

    def __init__(self, last: str):
        self.params = {"data.feature_set_hash": "h", "data.cutoff_last": last}

    def get_model_version_by_alias(self, name, alias):
        return SimpleNamespace(name=name, version="1", run_id="r1")

    def get_run(self, run_id):
        return SimpleNamespace(data=SimpleNamespace(params=self.params))


def world():
    """Four customers at each cutoff; x ranks churners first except one pair at 2024-03-01."""
    rows = []
    for cutoff in CUTOFFS:
        for customer, (x, y) in enumerate([(0.9, 1), (0.8, 1), (0.2, 0), (0.1, 0)]):
            if cutoff == CUTOFFS[-1] and customer in (1, 2):
                x = {1: 0.2, 2: 0.8}[customer]  # the champion mis-ranks this pair, last cutoff only
            rows.append({"customer_id": customer, "cutoff": cutoff, "x": x, "churn": y})
    frame = pd.DataFrame(rows)
    return SimpleNamespace(frame=frame, features=["x"], meta={"feature_set_hash": "h"})


def challenger_backtest(data):
    """The challenger ranks every cutoff perfectly."""
    predictions = []
    for cutoff in CUTOFFS:
        fold = data.frame[data.frame["cutoff"] == cutoff]
        predictions.append(
            pd.DataFrame(
                {
                    "customer_id": fold["customer_id"],
                    "cutoff": cutoff,
                    "y": fold["churn"],
                    "p": fold["churn"] * 0.5 + 0.25,
                }
            )
        )
    return SimpleNamespace(predictions=predictions, summary={"roc_auc_mean": 1.0})


class FeatureModel:
    def predict_proba(self, frame):
        x = np.asarray(frame["x"], dtype=float)
        return np.column_stack([1 - x, x])


def never_refit(*_):
    raise AssertionError("with unseen cutoffs the champion is not refitted")


@pytest.fixture
def graded(monkeypatch):
    monkeypatch.setattr(champion, "load_trusted", lambda uri: FeatureModel())
    data = world()
    folds = [SimpleNamespace(test=c) for c in CUTOFFS]
    cfg = {"target": {"name": "churn"}}

    def grade(last: str, cv: bool = False):
        backtest = challenger_backtest(data)
        return champion.decide(Registry(last), "m", data, cfg, backtest, folds, never_refit, cv)

    return grade


def test_only_cutoffs_after_the_champions_last_are_graded(graded):
    decision = graded("2024-02-01")
    assert decision["compared_on"] == "cutoffs 2024-03-01"
    # on 2024-03-01 the champion mis-ranks one pair of four: 3 of 4 pairs right
    assert decision["champion_roc_auc"] == pytest.approx(0.75)
    assert decision["challenger_roc_auc"] == 1.0 and decision["promote"]


def test_cutoffs_the_champion_saw_are_never_its_ground(graded):
    decision = graded("2024-01-01")
    assert decision["compared_on"] == "cutoffs 2024-02-01, 2024-03-01"
    # pooled churners 0.9, 0.8, 0.9, 0.2 against 0.2, 0.1, 0.8, 0.1: 14 of 16 pairs (ties half)
    assert decision["champion_roc_auc"] == pytest.approx(14 / 16)


def test_no_unseen_cutoff_means_a_refit_in_the_challengers_folds(graded, monkeypatch):
    def refit(*_):
        raise AssertionError("refitted")

    monkeypatch.setattr(champion, "refitted", refit)
    with pytest.raises(AssertionError, match="^refitted"):
        graded("2024-03-01")
    with pytest.raises(AssertionError, match="^refitted"):
        graded("2024-01-01", cv=True)  # a table without time: always the refit
