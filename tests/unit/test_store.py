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


def test_a_full_disk_is_said_with_its_path_free_bytes_and_key(tmp_path):
    import errno

    from churn.store import disk_full

    folders = {"scores_dir": str(tmp_path / "scores"), "reports_dir": str(tmp_path / "reports")}
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "scores" / "x.parquet"))
    said = disk_full(full, folders)
    assert "no space left on the disk holding" in said and "bytes free" in said
    assert "paths.scores_dir" in said and "previous output is as it was" in said
    duck = RuntimeError("IO Error: Could not write file: No space left on device")
    assert "paths.* folders" in disk_full(duck, folders)
    assert disk_full(OSError(errno.EACCES, "denied"), folders) is None


def test_a_command_that_fills_the_disk_exits_2_with_the_message_not_a_traceback(
    tmp_path, monkeypatch, capfd
):
    import errno

    import pytest
    from hydra.core.global_hydra import GlobalHydra

    from churn import cli

    def fill_the_disk(cfg):
        full = tmp_path / "reports" / "r.html"
        raise OSError(errno.ENOSPC, "No space left on device", str(full))

    monkeypatch.setattr(cli, "load_task", lambda name: fill_the_disk)
    monkeypatch.chdir(tmp_path)
    args = [f"paths.reports_dir={tmp_path / 'reports'}", f"paths.log_dir={tmp_path}"]
    held = GlobalHydra.instance()
    other = held.hydra if held.is_initialized() else None  # another test's composed configs
    held.clear()
    try:
        with pytest.raises(SystemExit) as stopped:
            cli.run_task("report", args)
    finally:
        held.clear()
        if other is not None:
            held.initialize(other)
    assert stopped.value.code == 2
    said = capfd.readouterr().err
    assert "no space left on the disk holding" in said and "paths.reports_dir" in said
    assert "Traceback" not in said
