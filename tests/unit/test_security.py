"""Hostile artifacts, paths and values: nothing they carry runs, breaks SQL or a spreadsheet."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from churn.errors import ChurnError
from churn.registry.trust import load_trusted
from churn.store import neutralise_cells


class Payload:
    """Unpickling this writes a marker file: proof that loading ran the artifact's code."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def saved_model(path: Path) -> Path:
    import mlflow

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(X, [0, 0, 1, 1])
    mlflow.sklearn.save_model(model, str(path), serialization_format="skops")
    return path


def test_a_skops_model_with_our_types_loads(tmp_path):
    model = load_trusted(str(saved_model(tmp_path / "good")))
    assert model.predict_proba(pd.DataFrame({"a": [3.0], "b": [0.0]})).shape == (1, 2)


@pytest.mark.parametrize("tamper", ["pickle", "cloudpickle", "extra_types"])
def test_a_tampered_artifact_is_refused_and_its_payload_never_runs(tmp_path, tamper):
    path = saved_model(tmp_path / "model")
    marker = tmp_path / "pwned"
    description = yaml.safe_load((path / "MLmodel").read_text())
    sklearn = description["flavors"]["sklearn"]
    if tamper == "extra_types":
        sklearn["skops_trusted_types"] = ["builtins.eval"]
    else:
        sklearn["serialization_format"] = tamper
        sklearn["pickled_model"] = "model.pkl"
        (path / "model.pkl").write_bytes(pickle.dumps(Payload(str(marker))))
    (path / "MLmodel").write_text(yaml.safe_dump(description))
    with pytest.raises(ChurnError, match="refusing to load"):
        load_trusted(str(path))
    assert not marker.exists()


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_text_cells_cannot_become_formulas_and_numbers_stay_numbers(cell):
    frame = pd.DataFrame({"customer_id": [cell, "c2"], "churn_probability": [-0.5, 0.25]})
    safe = neutralise_cells(frame)
    assert safe.loc[0, "customer_id"] == "'" + cell and safe.loc[1, "customer_id"] == "c2"
    assert safe["churn_probability"].tolist() == [-0.5, 0.25]
    table = neutralise_cells(pa.Table.from_pandas(frame, preserve_index=False))
    assert table.column("customer_id").to_pylist()[0] == "'" + cell
    assert table.column("churn_probability").to_pylist() == [-0.5, 0.25]


@pytest.mark.parametrize("folder", ["o'brien", "x'); DROP TABLE customers; --"])
def test_a_scores_folder_with_quotes_publishes_without_touching_other_tables(tmp_path, folder):
    import datetime as dt

    from churn.scoring.publish import publish_table

    class Con:  # the Ibis backend's surface publish_table uses
        name = "duckdb"

        def __init__(self, raw):
            self.con = raw

    staging = tmp_path / folder
    staging.mkdir()
    as_of = dt.date(2025, 1, 1)
    pd.DataFrame({"customer_id": ["a"], "as_of": [as_of], "p": [np.float64(0.2)]}).to_parquet(
        staging / "part-0.parquet"
    )
    pd.DataFrame({"customer_id": ["a", "a"], "as_of": [as_of] * 2, "alert": ["x", "y"]}).to_parquet(
        staging / "alerts.parquet"
    )
    raw = duckdb.connect(str(tmp_path / "w.duckdb"))
    raw.execute("CREATE TABLE customers AS SELECT 1 AS customer_id")
    publish_table(Con(raw), staging, as_of)
    assert raw.execute("SELECT count(*) FROM scores").fetchone() == (1,)
    assert raw.execute("SELECT count(*) FROM alerts").fetchone() == (2,)
    assert raw.execute("SELECT count(*) FROM customers").fetchone() == (1,)


BEFORE_THE_MOVE = Path(__file__).resolve().parents[1] / "data" / "model_before_package_move"


def test_a_model_saved_before_the_package_move_still_loads():
    """A calibrated churn pipeline saved by the code before training/, registry/ and the other
    stage packages existed: it holds only sklearn and xgboost types, so it loads and scores the
    same. A churn type saved with a model must keep its path or the model is refused."""
    model = load_trusted(str(BEFORE_THE_MOVE))
    rows = pd.read_csv(BEFORE_THE_MOVE / "rows.csv")
    expected = np.loadtxt(BEFORE_THE_MOVE / "proba.txt")
    np.testing.assert_allclose(model.predict_proba(rows)[:, 1], expected, rtol=1e-9)


def test_every_trusted_churn_type_is_where_its_name_says():
    import importlib

    from churn.registry.trust import TRUSTED_TYPES

    for name in [t for t in TRUSTED_TYPES if t.startswith("churn.")]:
        module, _, attr = name.rpartition(".")
        assert hasattr(importlib.import_module(module), attr), name


def test_a_churn_type_at_a_path_it_no_longer_has_is_refused(tmp_path):
    path = saved_model(tmp_path / "model")
    description = yaml.safe_load((path / "MLmodel").read_text())
    description["flavors"]["sklearn"]["skops_trusted_types"] = ["churn.pipeline.Anything"]
    (path / "MLmodel").write_text(yaml.safe_dump(description))
    with pytest.raises(ChurnError, match="trusted types beyond churn's list"):
        load_trusted(str(path))


class Harmless:
    """A type no churn model holds: skops must be told to trust it, and churn never does."""

    def __init__(self):
        self.size = 3


@pytest.mark.parametrize("hostile", ["outside", "env_outside", "link", "untrusted", "pickle"])
def test_an_artifact_is_read_only_from_inside_its_folder_and_refused_with_one_message(
    tmp_path, hostile
):
    """Paths out of the folder, a link in place of the model, a type the MLmodel did not list and
    a pickle named .skops: each is the product's refusal, never a traceback; nothing runs."""
    import skops.io

    path = saved_model(tmp_path / "model")
    marker = tmp_path / "pwned"
    secret = tmp_path / "secret.txt"
    secret.write_text("not a model")
    description = yaml.safe_load((path / "MLmodel").read_text())
    flavors = description["flavors"]
    expected = {
        "outside": "names '../secret.txt', outside the artifact folder",
        "env_outside": "outside the artifact folder",
        "link": "model.skops is a link",
        "untrusted": "its model file holds types it did not list",
        "pickle": "its model file is not a skops file",
    }[hostile]
    if hostile == "outside":
        flavors["sklearn"]["pickled_model"] = "../secret.txt"
    elif hostile == "env_outside":
        flavors["python_function"]["env"] = {"virtualenv": "../../../../etc/passwd"}
    elif hostile == "link":
        (path / "model.skops").unlink()
        (path / "model.skops").symlink_to(secret)
    elif hostile == "untrusted":
        skops.io.dump(Harmless(), path / "model.skops")
    else:
        (path / "model.skops").write_bytes(pickle.dumps(Payload(str(marker))))
    (path / "MLmodel").write_text(yaml.safe_dump(description))
    with pytest.raises(ChurnError, match="refusing to load") as refused:
        load_trusted(str(path))
    assert expected in str(refused.value)
    assert not marker.exists()
