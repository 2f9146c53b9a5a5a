"""The demo world at its default size (another seed) and its trained champion, built once."""

from __future__ import annotations

import pytest

from churn.training.train import train
from tests.conftest import featured_world, train_config


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """No retention calls in this world: these tests hold explanations to the planted drivers,
    and calls aimed at the risky would thin the churn a driver causes (a driver of strength 0.1
    can then read the other way)."""
    return featured_world(
        tmp_path_factory.mktemp("behaviour"), 20_000, 21, "2025-12-31", calls=False
    )


@pytest.fixture(scope="session")
def xgb(world, tmp_path_factory):
    return train(train_config(world, tmp_path_factory.mktemp("xgb"), "model=xgboost"))
