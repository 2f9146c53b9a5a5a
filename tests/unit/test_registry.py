"""The feature registry: one declaration per feature, every field usable downstream."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from churn.dataset.cutoffs import cutoff_dates
from churn.errors import ConfigError
from churn.features import FAMILIES, available_families, catalog
from churn.features.base import Feature
from churn.features.digest import Digest, boundary_days, window_offsets
from churn.features.value import ValueTiers
from churn.vocabulary import DRIVER_FAMILIES

WINDOWS = (30, 90, 180, 365)


def test_every_feature_is_declared_once_with_a_known_driver_family():
    features = catalog(list(FAMILIES), WINDOWS)
    names = [f.name for f in features]
    assert len(names) == len(set(names))
    assert {f.driver_family for f in features} <= set(DRIVER_FAMILIES)
    assert {f.family for f in features} == set(FAMILIES)


@pytest.mark.parametrize("feature", catalog(list(FAMILIES), WINDOWS), ids=lambda f: f.name)
def test_reason_templates_format_with_a_value(feature):
    from churn.explain.explainer import say

    value = "north" if feature.kind == "categorical" else 3.0
    sentence = say(feature.template, value, feature.description)
    assert sentence and "{" not in sentence and "|" not in sentence


def test_fixed_traits_are_never_actionable():
    by_name = {f.name: f for f in catalog(list(FAMILIES), WINDOWS)}
    for name in ("tenure_days", "region", "segment", "age_years", "early_life"):
        assert not by_name[name].actionable
    assert by_name["complaints_unresolved"].actionable


def test_windows_come_from_config():
    names = {f.name for f in catalog(["tenure_rfm"], (14, 60))}
    assert {"frequency_14d", "frequency_60d"} <= names and "frequency_30d" not in names


def test_unknown_driver_family_is_refused():
    with pytest.raises(ValueError, match="unknown driver family"):
        Feature("x", "f", "nonsense", True, "d", "t")


def test_families_without_their_tables_are_skipped(caplog):
    import ibis

    caplog.set_level("INFO")
    present = {
        "customers": ibis.table({"customer_id": "int64", "signup_date": "date"}, name="c"),
        "transactions": ibis.table({"customer_id": "int64", "channel": "string"}, name="t"),
    }
    assert available_families(present, announce=True) == ["tenure_rfm", "channels", "value"]
    assert "skipping family complaints (no complaints table)" in caplog.text
    present["transactions"] = present["transactions"].drop("channel")
    assert available_families(present) == ["tenure_rfm", "value"]


def test_monthly_cutoffs_and_bad_frequency():
    assert cutoff_dates("monthly", "2024-01-01", "2024-03-01") == [
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 1),
    ]
    with pytest.raises(ConfigError, match="cutoffs.freq"):
        cutoff_dates("hourly", "2024-01-01", "2024-03-01")


def test_digest_buckets_make_every_window_an_exact_union():
    cutoffs = [dt.date(2024, 6, 1), dt.date(2024, 7, 1)]
    bounds = tuple(boundary_days(cutoffs, WINDOWS))
    digest = Digest(table=None, boundaries=bounds, offsets=tuple(window_offsets(WINDOWS)))
    assert digest.index(dt.date(2024, 6, 1)) == bounds.index(dt.date(2024, 6, 1)) + 1
    with pytest.raises(ValueError, match="not a digest boundary"):
        digest.index(dt.date(2024, 6, 2))


def test_value_tiers_are_fitted_once_and_only_applied_later():
    train = np.array([[v] for v in range(1, 101)], dtype=float)
    tiers = ValueTiers((0.3, 0.8, 0.95)).fit(train)
    assert tiers.transform([[1.0], [50.0], [90.0], [99.0]]).ravel().tolist() == [
        "Lead",
        "Iron",
        "Gold",
        "Platinum",
    ]
    stored = ValueTiers.from_dict(tiers.to_dict())
    richer = np.array([[v * 10] for v in range(1, 101)], dtype=float)
    # scoring data is transformed with the stored thresholds, never re-fitted
    assert (stored.transform(richer) == tiers.transform(richer)).all()
    assert (stored.transform(richer) == "Platinum").mean() > 0.9


def test_a_logged_model_pins_the_libraries_it_loads_with():
    """Requirements are given to MLflow, not inferred (inference imports the model in a
    subprocess and pinned the test tools too)."""
    import importlib.metadata

    from churn.registry.models import MODEL_LIBRARIES, model_requirements

    pins = model_requirements(*MODEL_LIBRARIES)
    assert f"scikit-learn=={importlib.metadata.version('scikit-learn')}" in pins
    assert f"mlflow=={importlib.metadata.version('mlflow')}" in pins
    assert any(p.split("==")[0] in ("xgboost", "xgboost-cpu") for p in pins)
    assert not any(p.startswith(("pytest", "mlflow-skinny")) for p in pins)
    assert model_requirements("no_such_module") == []


NOUNS = "days|offers|complaints|logins|visits|points|customers|products|plans|purchases|channels"


@pytest.mark.parametrize("feature", catalog(list(FAMILIES), WINDOWS), ids=lambda f: f.name)
def test_every_sentence_reads_right_at_zero_one_many_and_missing(feature):
    import re

    from churn.explain.explainer import say

    if feature.kind == "categorical":
        return
    said = {v: say(feature.template, v, feature.description) for v in (0.0, 1.0, 2.0, np.nan)}
    for sentence in said.values():
        assert "(s)" not in sentence and "{" not in sentence and "|" not in sentence, sentence
        assert "nan" not in sentence.lower().split(), sentence
    # nothing counted as "0 things" or "only 0"; one thing is never plural
    assert not re.search(r"(?<![\d.+-])0 [a-z]|only 0\b", said[0.0]), said[0.0]
    assert not re.search(rf"(?<![\d.])1 (?:[a-z-]+ )?(?:{NOUNS})\b", said[1.0]), said[1.0]
    assert "not known" in said[np.nan] or "unknown" in said[np.nan]
    if feature.name in ("loyalty_member", "in_first_6_months"):  # yes/no: both ways round
        assert said[0.0] != said[1.0]
