"""Feature build speed on DuckDB against a plain pandas groupby baseline, in one run.

World: 1,000,000 simulated customers (CHURN_BENCH_CUSTOMERS lowers it), loaded through
`churn validate`'s path into a DuckDB file. Each measurement runs in its own process so that its
peak memory is its own.

Metrics:
- events: rows of the event tables the features read (all history);
- events_per_s, peak_rss_mb: every feature family (and labels) for one cutoff, written to parquet;
- cutoffs12_cost_ratio: wall time of 12 monthly cutoffs over that of one;
- pandas_events_per_s / speedup_vs_pandas: the RFM, complaints and channel-mix families only,
  ours against plain pandas groupbys over the same parquet data, same cutoff, same machine;
- demo_features_s: `churn features`' write_snapshots on the demo world (20,000 customers, the
  default 24 monthly cutoffs), every cutoff in one query; baseline in the same run:
  demo_features_per_cutoff_s, one query per cutoff (features.rows_per_query=1).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from common import peak_rss_mb, size, write_result

from churn.config import FeaturesOptions, LabelsOptions

CUTOFF = dt.date(2025, 6, 1)
BASELINE_FAMILIES = ["tenure_rfm", "complaints", "channels"]
EVENT_TABLES = [
    "transactions",
    "interactions",
    "complaints",
    "campaigns",
    "loyalty_points",
    "subscriptions",
    "referrals",
    "loyalty_members",
]
FCFG = asdict(FeaturesOptions())
LCFG = asdict(LabelsOptions())


def prepare(work: Path, n: int) -> dict:
    from churn.simulate.app import write_demo_world
    from churn.validate import load_warehouse
    from churn.warehouse import connection

    counts, _ = write_demo_world(work / "raw", n, "2023-01-01", "2025-12-31", 42)
    sources = {t: {"path": str(work / "raw" / f"{t}.parquet")} for t in counts}
    started = time.perf_counter()
    with connection({"backend": "duckdb", "path": str(work / "w.duckdb")}) as con:
        load_warehouse(con, sources, dt.date(2025, 12, 31), 0.0)
    return {"counts": counts, "validate_s": time.perf_counter() - started}


def ours(work: Path, n_cutoffs: int, families: list[str]) -> dict:
    """`churn features` as the product runs it: digests, every cutoff to parquet, tiers, catalog."""
    import pandas as pd

    from churn.dataset.build import write_snapshots
    from churn.warehouse import connection

    first = (pd.Timestamp(CUTOFF) - pd.DateOffset(months=n_cutoffs - 1)).date()
    ccfg = {
        "freq": "monthly",
        "start": first.isoformat(),
        "end": CUTOFF.isoformat(),
        "spine": "subscription",
        "lookback_days": 90,
    }
    started = time.perf_counter()
    with connection({"backend": "duckdb", "path": str(work / "w.duckdb")}) as con:
        con.raw_sql("SET threads = 2")
        meta = write_snapshots(
            con,
            work / f"features-{n_cutoffs}",
            {**FCFG, "families": families},
            LCFG,
            ccfg,
            "2025-12-31",
        )
    return {
        "wall_s": time.perf_counter() - started,
        "peak_rss_mb": peak_rss_mb(),
        "cutoffs": len(meta["cutoffs"]),
        "rows": sum(meta["rows"].values()),
    }


def pandas_baseline(work: Path) -> dict:
    """RFM, complaints and channel mix with plain pandas groupbys, read from the same parquet."""
    import pandas as pd

    started = time.perf_counter()
    raw = work / "raw"
    c = pd.Timestamp(CUTOFF)
    tx = pd.read_parquet(
        raw / "transactions.parquet", columns=["customer_id", "ts", "channel", "amount"]
    )
    it = pd.read_parquet(raw / "interactions.parquet", columns=["customer_id", "ts", "channel"])
    cp = pd.read_parquet(raw / "complaints.parquet")
    tx = tx[tx.ts < c]
    age = (c - tx.ts).dt.total_seconds() / 86400
    rfm = pd.DataFrame({"recency_days": age.groupby(tx.customer_id).min()})
    for w in (30, 90, 180, 365):
        inw = age < w
        rfm[f"frequency_{w}d"] = inw.groupby(tx.customer_id).sum()
        rfm[f"monetary_{w}d"] = tx.amount.where(inw, 0.0).groupby(tx.customer_id).sum()
    cp = cp[cp.opened_at < c]
    open_ = cp.resolved_at.isna() | (cp.resolved_at >= c)
    cage = (c - cp.opened_at).dt.total_seconds() / 86400
    comp = pd.DataFrame(
        {
            "complaints_unresolved": open_.groupby(cp.customer_id).sum(),
            "days_since_last_complaint": cage.groupby(cp.customer_id).min(),
        }
    )
    for w in (30, 90, 180, 365):
        comp[f"complaints_{w}d"] = (cage < w).groupby(cp.customer_id).sum()
    it = it[(it.ts < c) & (it.ts >= c - pd.Timedelta(days=365)) & (it.channel != "email")]
    contacts = pd.concat(
        [it[["customer_id", "channel"]], tx.loc[age < 365, ["customer_id", "channel"]]]
    )
    contacts["channel"] = contacts.channel.astype(str)
    mix = pd.crosstab(contacts.customer_id, contacts.channel, normalize="index")
    mix["channels_used"] = (mix > 0).sum(axis=1)
    out = rfm.join(comp, how="outer").join(mix, how="outer")
    out.to_parquet(work / "pandas.parquet")
    return {"wall_s": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()}


def demo(work: Path, batching: str) -> dict:
    """write_snapshots on the demo world with the default cutoffs and configs."""
    from churn.config import CutoffsOptions
    from churn.dataset.build import write_snapshots
    from churn.warehouse import connection

    world = work / "demo"
    if not (world / "w.duckdb").exists():
        prepare(world, 20_000)
    started = time.perf_counter()
    with connection({"backend": "duckdb", "path": str(world / "w.duckdb")}) as con:
        con.raw_sql("SET threads = 2")
        meta = write_snapshots(
            con,
            world / f"features-{batching}",
            {**FCFG, "rows_per_query": 1} if batching == "per_cutoff" else FCFG,
            LCFG,
            asdict(CutoffsOptions()),
            "2025-12-31",
        )
    return {"wall_s": time.perf_counter() - started, "cutoffs": len(meta["cutoffs"])}


def child(mode: str, work: Path, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, mode, str(work), *args],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    n = size("CHURN_BENCH_CUSTOMERS", 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prep = child("prepare", work, str(n))
        one = child("ours", work, "1", "all")
        twelve = child("ours", work, "12", "all")
        ours_three = child("ours", work, "1", ",".join(BASELINE_FAMILIES))
        base = child("pandas", work)
        demo_per_cutoff = child("demo", work, "per_cutoff")
        demo_all = child("demo", work, "all")
    counts = prep["counts"]
    events = sum(counts[t] for t in EVENT_TABLES)
    base_events = sum(counts[t] for t in ("transactions", "interactions", "complaints"))
    ours_rate = base_events / ours_three["wall_s"]
    pandas_rate = base_events / base["wall_s"]
    write_result(
        "features",
        params={
            "n_customers": n,
            "cutoff": CUTOFF.isoformat(),
            "windows": FCFG["windows"],
            "baseline": "pandas groupby: RFM, complaints, channel mix",
            "baseline_families": BASELINE_FAMILIES,
            "engine": "duckdb, 2 threads",
        },
        metrics={
            "events": events,
            "events_per_s": events / one["wall_s"],
            "one_cutoff_s": one["wall_s"],
            "peak_rss_mb": one["peak_rss_mb"],
            "snapshot_rows_one_cutoff": one["rows"],
            "twelve_cutoffs_s": twelve["wall_s"],
            "cutoffs12_cost_ratio": twelve["wall_s"] / one["wall_s"],
            "baseline_events": base_events,
            "ours_baseline_families_s": ours_three["wall_s"],
            "pandas_s": base["wall_s"],
            "pandas_peak_rss_mb": base["peak_rss_mb"],
            "pandas_events_per_s": pandas_rate,
            "speedup_vs_pandas": ours_rate / pandas_rate,
            "validate_rows_per_s": sum(counts.values()) / prep["validate_s"],
            "demo_features_s": demo_all["wall_s"],
            "demo_features_per_cutoff_s": demo_per_cutoff["wall_s"],
            "demo_cutoffs": demo_all["cutoffs"],
        },
    )


if __name__ == "__main__":
    if len(sys.argv) == 1:
        main()
    else:
        mode, work = sys.argv[1], Path(sys.argv[2])
        if mode == "prepare":
            result = prepare(work, int(sys.argv[3]))
        elif mode == "demo":
            result = demo(work, sys.argv[3])
        elif mode == "ours":
            families = [] if sys.argv[4] == "all" else sys.argv[4].split(",")
            result = ours(work, int(sys.argv[3]), families)
        else:
            result = pandas_baseline(work)
        print(json.dumps(result))
