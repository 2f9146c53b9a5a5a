"""Simulator speed and memory: 1,000,000 customers, all tables written to parquet.

Event tables stream to parquet while the months run (`churn.simulate.sink`), so memory holds the
world's state and one buffer per table, not its whole history.

Metrics: customers, events (rows of all tables together), rows_per_s, peak_rss_mb, wall_s (the
whole `write_demo_world`: simulate, stream, ledgers, ground truth, swap into place).
CHURN_BENCH_CUSTOMERS lowers the size for a quick run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import peak_rss_mb, size, timer, write_result

from churn.simulate import write_demo_world

START, END, SEED = "2023-01-01", "2025-12-31", 42


def main() -> None:
    n = size("CHURN_BENCH_CUSTOMERS", 1_000_000)
    t: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with timer(t, "wall_s"):
            counts, _ = write_demo_world(Path(tmp) / "raw", n, START, END, SEED)
    rows = sum(counts.values())
    write_result(
        "simulate",
        params={"n_customers": n, "start": START, "end": END, "seed": SEED, "streamed": True},
        metrics={
            "customers": n,
            "events": rows,
            "rows_per_s": rows / t["wall_s"],
            "peak_rss_mb": peak_rss_mb(),
            **t,
        },
    )


if __name__ == "__main__":
    main()
