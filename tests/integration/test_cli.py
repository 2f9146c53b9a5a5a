"""The `churn` command line end to end, in subprocesses, as a user runs it."""

from __future__ import annotations

import json
import os

import duckdb
import pytest

from tests.conftest import churn


def test_help_lists_the_subcommands():
    out = churn("--help")
    assert out.returncode == 0
    assert "simulate" in out.stdout and "validate" in out.stdout


def test_subcommand_help_shows_its_config():
    out = churn("simulate", "--help")
    assert out.returncode == 0
    assert "n_customers" in out.stdout and "paths" in out.stdout


def test_simulate_then_validate_into_another_folder(tmp_path):
    data = tmp_path / "x"
    sim = churn("simulate", "n_customers=300", "seed=3", f"paths.data_dir={data}")
    assert sim.returncode == 0, sim.stderr
    assert (data / "raw" / "customers.parquet").exists()
    assert json.loads((data / "raw" / "ground_truth.json").read_text())["seed"] == 3
    val = churn("validate", f"paths.data_dir={data}")
    assert val.returncode == 0, val.stderr
    report = json.loads((data / "validation_report.json").read_text())
    assert report["tables"]["customers"]["rows_loaded"] == 300
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        n = con.execute("select count(*) from customers").fetchone()[0]
        rejects = con.execute("select count(*) from rejects_transactions").fetchone()[0]
    assert (n, rejects) == (300, 0)


def test_a_typo_in_a_key_fails_at_start_up_and_names_it(tmp_path):
    out = churn("simulate", "n_custmers=5", f"paths.data_dir={tmp_path}")
    assert out.returncode != 0
    assert "n_custmers" in out.stderr
    assert not (tmp_path / "raw").exists()


def test_a_user_error_is_one_clear_message_without_a_stack_trace(tmp_path):
    out = churn("validate", f"paths.data_dir={tmp_path / 'empty'}")
    assert out.returncode == 2
    assert "data.tables.customers.path" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("key", ["data_dir", "scores_dir", "reports_dir", "models_dir"])
def test_a_file_where_a_folder_is_expected_stops_before_any_work(tmp_path, key):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    out = churn("score", f"paths.{key}={blocker}")
    assert out.returncode == 2
    assert f"paths.{key}={blocker} is a file, not a folder" in out.stderr
    assert "Traceback" not in out.stderr
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("command", ["validate", "features"])
def test_a_second_run_on_the_same_data_folder_exits_with_the_first_ones_pid(tmp_path, command):
    from churn.store import FolderLock

    data = tmp_path / "data"
    data.mkdir()
    (data / "untouched.txt").write_text("x")
    with FolderLock(data, "validate"):  # this test process is the live first run
        out = churn(command, f"paths.data_dir={data}")
        assert out.returncode == 2
        assert f"another churn validate (pid {os.getpid()}) is writing {data}" in out.stderr
        assert "Traceback" not in out.stderr
    assert sorted(p.name for p in data.iterdir() if p.name != "logs") == ["untouched.txt"]
