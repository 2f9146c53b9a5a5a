"""`churn simulate`: write the demo world where the warehouse expects raw data."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from omegaconf import DictConfig, OmegaConf

from churn.simulate.options import HazardConfig, RetentionEffects, RetentionProgram
from churn.simulate.output import write_world
from churn.simulate.run import simulate_world
from churn.simulate.sink import TableSink
from churn.simulate.tables import EVENT_TABLES
from churn.simulate.world import to_day
from churn.store import parts_of, staging_dir, swap_dir

log = logging.getLogger(__name__)


def write_demo_world(
    raw_dir: Path,
    n_customers: int,
    start: str,
    end: str,
    seed: int,
    existing_fraction: float = 0.5,
    hazard: HazardConfig | None = None,
    retention: RetentionProgram | None = None,
) -> tuple[dict[str, int], dict]:
    """Simulate and write the raw tables and the ground truth; returns row counts and the truth."""
    lists = read_call_lists(retention.call_lists) if retention and retention.call_lists else None
    raw_dir = Path(raw_dir)
    tmp = staging_dir(raw_dir)  # readers never see half a world: swapped in when complete
    sink = TableSink(tmp, EVENT_TABLES)
    try:
        world = simulate_world(
            n_customers,
            start,
            end,
            seed,
            existing_fraction,
            hazard,
            retention=retention,
            call_lists=lists,
            sink=sink,
        )
        counts, truth = write_world(world, sink, tmp, seed, start, end)
        swap_dir(tmp, raw_dir)
    finally:
        sink.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return counts, truth


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
        retention_program(OmegaConf.to_container(cfg.retention)),
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


def retention_program(plain: dict) -> RetentionProgram:
    return RetentionProgram(**{**plain, "effects": RetentionEffects(**plain["effects"])})


def read_call_lists(scores_dir: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Published lists as the world calls them: month start day -> (called, held out) internal
    positions (customer id - 1). Only partitions dated on a month's first day can be called."""
    out = {}
    for folder in sorted(Path(scores_dir).glob("as_of=*")):
        day = dt.date.fromisoformat(folder.name.removeprefix("as_of="))
        if day.day != 1:
            log.warning("%s: not a month's first day, the world cannot call it", folder.name)
            continue
        parts = [
            pq.ParquetFile(p).read(columns=["customer_id", "treatment_group"])
            for p in parts_of(folder)
        ]
        ids = np.concatenate([p.column("customer_id").to_numpy() for p in parts]) - 1
        group = np.concatenate([p.column("treatment_group").to_numpy(False) for p in parts])
        out[to_day(day.isoformat())] = (ids[group == "call"], ids[group == "control"])
        log.info(
            "the world calls %s's list: %d called, %d held out",
            day,
            out[to_day(day.isoformat())][0].size,
            out[to_day(day.isoformat())][1].size,
        )
    return out
