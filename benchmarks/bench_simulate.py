"""Simulator speed and memory: 1,000,000 customers, all tables written to parquet.

Metrics: customers, events (rows of all tables together), rows_per_s, peak_rss_mb.
CHURN_BENCH_CUSTOMERS lowers the size for a quick run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import peak_rss_mb, size, timer, write_result

from churn.simulate import build_ground_truth, build_tables, simulate_world, write_world

START, END, SEED = "2023-01-01", "2025-12-31", 42


def main() -> None:
    n = size("CHURN_BENCH_CUSTOMERS", 1_000_000)
    t: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with timer(t, "simulate_s"):
            world = simulate_world(n, START, END, SEED, progress=False)
        with timer(t, "build_s"):
            tables = build_tables(world)
            truth, hazard = build_ground_truth(world, SEED, START, END)
        with timer(t, "write_s"):
            write_world(tables, truth, hazard, Path(tmp) / "raw")
    rows = sum(table.num_rows for table in tables.values())
    total = t["simulate_s"] + t["build_s"] + t["write_s"]
    write_result(
        "simulate",
        params={"n_customers": n, "start": START, "end": END, "seed": SEED},
        metrics={
            "customers": n,
            "events": rows,
            "rows_per_s": rows / total,
            "peak_rss_mb": peak_rss_mb(),
            "wall_s": total,
            **t,
        },
    )


if __name__ == "__main__":
    main()
