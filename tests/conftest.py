"""Shared fixtures: tiny simulated worlds written to tmp folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from churn.simulate import build_ground_truth, build_tables, simulate_world, write_world

REPO = Path(__file__).resolve().parents[1]


def make_world(raw_dir: Path, n: int = 400, seed: int = 7, start="2023-01-01", end="2024-12-31"):
    world = simulate_world(n, start, end, seed, progress=False)
    tables = build_tables(world)
    truth, hazard = build_ground_truth(world, seed, start, end)
    write_world(tables, truth, hazard, raw_dir)
    return tables, truth


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    """A 400-customer world over two years; its data_dir (raw/ inside)."""
    data_dir = tmp_path_factory.mktemp("tiny_world")
    make_world(data_dir / "raw")
    return data_dir
