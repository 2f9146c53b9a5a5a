"""Shared fixtures: tiny simulated worlds written to tmp folders."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd  # noqa: F401  (annotations)
import pytest

from churn.cli import compose_config
from churn.config import CutoffsOptions, FeaturesOptions, LabelsOptions
from churn.simulate.app import write_demo_world
from churn.simulate.options import RetentionProgram

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Two xdist workers share the two cores of the CI machine. OpenMP threads (XGBoost's) that
    spin while they wait burn the other worker's core: Telco's fixture took 330 s beside another
    training, 56 s with passive waiting. Set before any worker starts, so every process
    inherits it."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def make_world(
    raw_dir: Path,
    n: int = 400,
    seed: int = 7,
    start="2023-01-01",
    end="2024-12-31",
    calls: bool = True,
):
    """A simulated world written to raw_dir; returns its row counts and ground truth. With
    `calls=False` the world runs no retention program: what is observed of a churn driver is
    then the planted driver alone, with no call (aimed at the risky) thinning its churn."""
    program = None if calls else RetentionProgram(monthly_share=0.0)
    return write_demo_world(raw_dir, n, start, end, seed, retention=program)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    """A 400-customer world over two years; its data_dir (raw/ inside)."""
    data_dir = tmp_path_factory.mktemp("tiny_world")
    make_world(data_dir / "raw")
    return data_dir


# the configs' own defaults, with a one-year cutoff range for the small test worlds
FEATURE_CFG = asdict(FeaturesOptions())
LABEL_CFG = asdict(LabelsOptions())
CUTOFF_CFG = {**asdict(CutoffsOptions()), "start": "2024-01-01", "end": "2024-12-01"}


def load_frames(con, frames: dict, tmp_path: Path, load_date) -> None:
    """Write frames to parquet and load them through the real validation path, rejecting nothing."""
    from churn.validate import load_warehouse

    tmp_path.mkdir(parents=True, exist_ok=True)
    sources = {}
    for name, frame in frames.items():
        path = tmp_path / f"{name}.parquet"
        frame.to_parquet(path)
        sources[name] = {"path": str(path)}
    # any reject fails the test; hand-made and perturbed worlds date a few events before their
    # customer's signup on purpose (features must still read them), so those are kept
    load_warehouse(con, sources, load_date, max_reject_fraction=0.0, before_signup="keep")


def snapshot_frame(con, cutoff, data_end, label_cfg=None, feature_cfg=None) -> pd.DataFrame:
    from churn.dataset.build import build_snapshot, warehouse_tables
    from churn.features import available_families

    tables = warehouse_tables(con)
    expr = build_snapshot(
        tables,
        cutoff,
        feature_cfg or FEATURE_CFG,
        label_cfg or LABEL_CFG,
        CUTOFF_CFG,
        data_end,
        available_families(tables),
    )
    return expr.execute().set_index("customer_id")


def churn(*args: str, cwd: Path | None = None):
    """Run the `churn` command line in a subprocess, as a user would."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "churn.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def featured_world(
    data: Path, n: int, seed: int, end: str, *feature_args: str, calls: bool = True
) -> Path:
    """Simulate, validate and build features into `data`, through the command line."""
    make_world(data / "raw", n=n, seed=seed, start="2023-01-01", end=end, calls=calls)
    assert churn("validate", f"paths.data_dir={data}").returncode == 0
    out = churn("features", f"paths.data_dir={data}", *feature_args)
    assert out.returncode == 0, out.stderr
    return data


def train_config(data: Path, tmp_path: Path, *overrides: str) -> dict:
    """The train config composed as `churn train` would, with every output under tmp_path."""
    return compose_config(
        "train",
        f"paths.data_dir={data}",
        f"mlflow.tracking_uri=sqlite:///{tmp_path}/mlflow.db",
        f"paths.mlflow_artifacts={tmp_path}/mlruns",
        f"paths.models_dir={tmp_path}/models",
        *overrides,
    )


@contextlib.contextmanager
def held(lock: Path):
    """An exclusive lock across the xdist workers (a flock on a file they all see)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(tmp_path_factory, worker_id: str, name: str, build) -> dict:
    """`build(root)` runs once for the whole test run, whichever worker asks first; the others
    wait for it and read what it returned (a JSON document) from disk."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    root, done = shared / name, shared / f"{name}.json"
    with held(shared / f"{name}.lock"):
        if not done.exists():
            done.write_text(json.dumps(build(root)))
    return json.loads(done.read_text())


@pytest.fixture(scope="session")
def small_trained_world(tmp_path_factory, worker_id) -> dict:
    """1,500 customers with features at 18 monthly cutoffs, a churn champion and a cross-sell
    champion: built once per test run and shared by the train, score and report tests, which
    only read it (each trains or writes into its own folders)."""

    def build(root: Path) -> dict:
        from churn.training.train import train

        data = featured_world(
            root / "data",
            1500,
            11,
            "2025-06-30",
            "cutoffs.start=2024-01-01",
            "cutoffs.end=2025-06-01",
        )
        _, objects = train(train_config(data, root, "model.estimator.n_estimators=60"))
        train(train_config(data, root, "model.estimator.n_estimators=60", "target=cross_sell"))
        keep = ("run_id", "model_name", "model_version")
        return {
            "data": str(data),
            "root": str(root),
            "uri": f"sqlite:///{root}/mlflow.db",
            "churn": {k: str(objects[k]) for k in keep},
        }

    return built_once(tmp_path_factory, worker_id, "small_trained_world", build)
