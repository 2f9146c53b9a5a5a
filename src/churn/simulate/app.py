"""`churn simulate`: write the demo world where the warehouse expects raw data."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from churn.config import HazardConfig
from churn.simulate.output import build_ground_truth, build_tables, write_world
from churn.simulate.run import simulate_world

log = logging.getLogger(__name__)


def write_demo_world(
    raw_dir: Path,
    n_customers: int,
    start: str,
    end: str,
    seed: int,
    existing_fraction: float = 0.5,
    hazard: HazardConfig | None = None,
) -> tuple[dict[str, int], dict]:
    """Simulate and write the raw tables and the ground truth; returns row counts and the truth."""
    world = simulate_world(n_customers, start, end, seed, existing_fraction, hazard)
    tables = build_tables(world)
    truth, hazard_table = build_ground_truth(world, seed, start, end)
    write_world(tables, truth, hazard_table, raw_dir)
    return {name: table.num_rows for name, table in tables.items()}, truth


def run_simulate(cfg: DictConfig) -> dict[str, int]:
    """Simulate, then write `<paths.data_dir>/raw/*.parquet` and the ground truth atomically."""
    started = time.perf_counter()
    raw_dir = Path(cfg.paths.data_dir) / "raw"
    counts, _ = write_demo_world(
        raw_dir,
        cfg.n_customers,
        cfg.start,
        cfg.end,
        cfg.seed,
        cfg.existing_fraction,
        HazardConfig(**OmegaConf.to_container(cfg.hazard)),
    )
    log.info(
        "wrote %s rows in %d tables to %s in %.1f s",
        f"{sum(counts.values()):,}",
        len(counts),
        raw_dir,
        time.perf_counter() - started,
    )
    for name, rows in counts.items():
        log.info("  %-16s %12s rows", name, f"{rows:,}")
    return counts
