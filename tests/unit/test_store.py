"""Output folders: one writer at a time, and a live run's staging is never taken for a leftover."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from churn.errors import ChurnError
from churn.store import FolderLock, is_leftover, this_process, write_owner

HOLD = (
    "import sys, time; from pathlib import Path; from churn.store import FolderLock, write_owner; "
    "lock = FolderLock(Path(sys.argv[1]), 'score').__enter__(); "
    "write_owner(Path(sys.argv[2])); print('ready', flush=True); time.sleep(60)"
)


@pytest.fixture
def live_run(tmp_path):
    """Another process holding the scores folder and owning a staging folder in it."""
    staging = tmp_path / ".as_of=2025-01-01.tmp-abc"
    staging.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path), str(staging)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "ready"
    yield proc, staging
    proc.kill()
    proc.wait()


def test_a_second_writer_exits_with_the_holders_pid(tmp_path, live_run):
    proc, staging = live_run
    with pytest.raises(ChurnError, match=rf"another churn score \(pid {proc.pid}\) is writing"):
        with FolderLock(tmp_path, "score"):
            pass
    assert not is_leftover(staging)  # its staging folder is not anybody's to remove


def test_a_lock_and_staging_left_by_a_dead_process_are_taken_over(tmp_path, live_run):
    proc, staging = live_run
    proc.kill()
    proc.wait()
    assert is_leftover(staging)
    with FolderLock(tmp_path, "score"):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == this_process()["pid"]
    assert not (tmp_path / ".lock").exists()


def test_a_staging_folder_without_an_owner_is_a_leftover_and_ours_is_not(tmp_path):
    assert is_leftover(tmp_path)
    write_owner(tmp_path)
    assert not is_leftover(tmp_path)


def test_a_new_staging_folder_clears_dead_runs_leftovers_but_not_live_ones(tmp_path, live_run):
    from churn.store import staging_dir, swap_dir

    target = tmp_path / "features"
    dead = tmp_path / ".features.tmp-dead"
    dead.mkdir()
    (dead / "part-0.parquet").write_text("half")
    live = tmp_path / ".features.tmp-live"
    live.mkdir()
    proc, _ = live_run
    (live / ".owner.json").write_text(
        json.dumps(
            {"pid": proc.pid, "started": __import__("psutil").Process(proc.pid).create_time()}
        )
    )
    tmp = staging_dir(target)
    assert not dead.exists() and live.exists() and not is_leftover(tmp)
    (tmp / "catalog.json").write_text("{}")
    swap_dir(tmp, target)
    assert sorted(p.name for p in target.iterdir()) == ["catalog.json"]  # no owner file published


def test_paths_that_cannot_hold_output_are_named_with_their_keys(tmp_path, monkeypatch):
    from churn import store

    blocker = tmp_path / "file"
    blocker.write_text("x")
    problems = store.unusable_folders(
        {"data_dir": str(blocker), "scores_dir": str(blocker / "scores"), "models_dir": None}
    )
    assert problems == [
        f"paths.data_dir={blocker} is a file, not a folder",
        f"paths.scores_dir={blocker / 'scores'} lies under the file {blocker}, not a folder",
    ]
    monkeypatch.setattr(store.os, "access", lambda path, mode: False)  # as a non-root user sees
    assert store.unusable_folders({"reports_dir": str(tmp_path / "r")}) == [
        f"paths.reports_dir={tmp_path / 'r'}: {tmp_path} cannot be written"
    ]


def test_the_warehouse_memory_limit_reaches_duckdb_and_a_bad_one_names_the_key(tmp_path):
    from churn.errors import ConfigError
    from churn.warehouse import connection

    settings = {"backend": "duckdb", "path": str(tmp_path / "w.duckdb"), "memory_limit": "1GB"}
    with connection(settings) as con:
        (limit,) = con.raw_sql("SELECT current_setting('memory_limit')").fetchone()
    assert limit == "953.6 MiB"  # DuckDB reports 10^9 bytes in binary units
    with pytest.raises(ConfigError, match="warehouse.memory_limit='lots'"):
        with connection({**settings, "memory_limit": "lots"}):
            pass
