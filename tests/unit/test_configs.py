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


# Every key an error or log message tells the user to set, as a plain command-line override
# (no Hydra `+`), with the command and data config where the message can come up.
NAMED_KEYS = [
    ("validate", "data=telco", "data.snapshot.exclude=[gender,Partner]"),
    ("validate", "data=telco", "data.snapshot.allow_leaky=[TotalCharges]"),
    ("validate", "data=telco", "data.snapshot.value.column=TotalCharges"),
    ("validate", "data=telco", "data.snapshot.value.columns=[MonthlyCharges,TotalCharges]"),
    ("validate", "data=telco", "data.snapshot.value.column=none"),
    ("validate", "data=telco", "data.snapshot.id=CustomerNo"),
    ("validate", "data=telco", "data.snapshot.label.column=Exited"),
    ("validate", "data=telco", "data.snapshot.label.positive=No"),
    ("validate", "data=telco", "data.snapshot.path=elsewhere.csv"),
    ("validate", "data=telco", "data.snapshot.duplicates=reject"),
    ("validate", "data=telco", "data.snapshot.missing_tokens=[NA,'?']"),
    ("validate", "data=telco", "data.snapshot.csv_options={sep:'|'}"),
    ("validate", "data=telco", "data.snapshot.features.tenure.kind=categorical"),
    ("validate", "data=telco", "data.snapshot.features.tenure.driver_family=price"),
    ("validate", "data=telco", "data.snapshot.features.TotalCharges.blank=reject"),
    ("validate", "data=telco", "data.snapshot.decimal=','"),
    ("validate", "data=telco", "data.snapshot.thousands=' '"),
    ("validate", "data=telco", "validate.max_reject_fraction=0.2"),
    ("validate", "data=hillstrom", "data.snapshot.treatment.column=arm"),
    ("validate", "data=hillstrom", "data.snapshot.treatment.control=none"),
    ("validate", "data=hillstrom", "data.snapshot.treatment.shares={control:0.5,mail:0.5}"),
    ("validate", "data=hillstrom", "data.snapshot.treatment.keep_unbalanced=[spend]"),
    ("validate", "data=hillstrom", "data.snapshot.treatment.balance_p=0.01"),
    ("uplift", "data=hillstrom", "uplift.min_arm_rows=20"),
    ("uplift", "data=hillstrom", "uplift.choose_from=[t]"),
    ("report", "data=telco", "risk.edges=[0.1,0.3]"),
    ("score", "data=telco", "costs.contact_cost=2.5"),
    ("score", "data=telco", "costs.acceptance_rate=0.5"),
    ("score", "data=telco", "costs.incentive_cost=10"),
    ("score", "data=telco", "playbook.actions.price.Gold.max_compensation=5"),
    ("score", "data=telco", "score.policy=uplift_value"),
    ("score", "data=telco", "score.explore_fraction=0.1"),
    ("score", "data=telco", "contact.cooldown_days=14"),
    ("score", "data=telco", "contact.max_contacts_365d=null"),
    ("score", "data=telco", "contact.do_not_contact.path=dnc.csv"),
    ("score", "data=telco", "contact.do_not_contact.table=dnc"),
    ("score", "data=telco", "contact.do_not_contact.column=id"),
    ("score", "data=telco", "alerts.max_per_week=50"),
]


@pytest.mark.parametrize(("command", "data", "override"), NAMED_KEYS)
def test_a_key_a_message_names_works_as_a_plain_override(command, data, override):
    from omegaconf import OmegaConf

    key = override.partition("=")[0]
    before = compose(config_name=COMMANDS[command].config, overrides=[data])
    after = compose(config_name=COMMANDS[command].config, overrides=[data, override])
    assert OmegaConf.select(after, key) != OmegaConf.select(before, key), override


def test_every_snapshot_key_a_message_names_is_in_the_override_list():
    import re

    src = Path(__file__).resolve().parents[2] / "src" / "churn"
    named = set()
    for path in src.rglob("*.py"):
        named |= set(re.findall(r"data\.snapshot\.([a-z_]+(?:\.[a-z_]+)*)", path.read_text()))
    covered = {o.partition("=")[0].removeprefix("data.snapshot.") for _, _, o in NAMED_KEYS}
    covered |= {k.split(".")[0] for k in covered}
    assert {k for k in named if k.split(".")[0] != "features"} <= covered
