"""Every primary config composes with its schema; bad keys fail early."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from churn.cli import COMMANDS, find_config_dir
from churn.schemas import register_configs


@pytest.fixture(scope="module", autouse=True)
def hydra_configs():
    register_configs()
    with initialize_config_dir(config_dir=str(find_config_dir()), version_base="1.3"):
        yield


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_config_composes(name):
    cfg = compose(config_name=COMMANDS[name].config, overrides=["paths.data_dir=/tmp/elsewhere"])
    assert cfg.paths.data_dir == "/tmp/elsewhere"


def test_paths_follow_the_data_dir():
    cfg = compose(config_name="validate", overrides=["paths.data_dir=/srv/crm"])
    assert cfg.warehouse.path == "/srv/crm/warehouse.duckdb"
    assert cfg.data.tables.customers.path == "/srv/crm/raw/customers.parquet"


def test_custom_data_template_composes():
    cfg = compose(config_name="validate", overrides=["data=custom"])
    assert cfg.data.tables.customers.columns.customer_id == "CustomerNo"


def test_unknown_key_is_rejected():
    with pytest.raises(ConfigCompositionException):
        compose(config_name="validate", overrides=["validate.max_reject_fractoin=0.5"])


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=xgboost"],
        ["model=logreg"],
        ["target=cross_sell"],
        ["target=upsell"],
        ["+experiment=logreg_baseline"],
        ["+experiment=long_horizon"],
        ["+debug=fast"],
    ],
    ids=lambda o: o[0],
)
def test_train_config_groups_compose_and_instantiate(overrides):
    from hydra.utils import instantiate

    cfg = compose(config_name="train", overrides=overrides)
    estimator = instantiate(cfg.model.estimator)
    assert hasattr(estimator, "predict_proba")
    assert cfg.target.name in {"churn", "cross_sell", "upsell"}


def test_experiment_overrides_the_model():
    cfg = compose(config_name="train", overrides=["+experiment=logreg_baseline"])
    assert cfg.model.name == "logreg"


def test_train_typo_names_the_key():
    with pytest.raises(ConfigCompositionException):
        compose(config_name="train", overrides=["split.n_fold=4"])


def test_tracking_uri_follows_mlflow_tracking_uri_when_set(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = compose(config_name="train", overrides=["paths.mlflow_uri=sqlite:///here.db"])
    assert cfg.mlflow.tracking_uri == "sqlite:///here.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking:5000")
    cfg = compose(config_name="train", overrides=["paths.mlflow_uri=sqlite:///here.db"])
    assert cfg.mlflow.tracking_uri == "http://tracking:5000"


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in (Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name
