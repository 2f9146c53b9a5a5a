"""`churn features` end to end on a small simulated world."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from tests.conftest import churn


def test_features_writes_one_partition_per_cutoff_with_catalog(tiny_world, tmp_path):
    data = tmp_path / "d"
    shutil.copytree(tiny_world / "raw", data / "raw")
    assert churn("validate", f"paths.data_dir={data}").returncode == 0
    out = churn(
        "features",
        f"paths.data_dir={data}",
        "cutoffs.start=2024-07-01",
        "cutoffs.end=2024-12-01",
        "labels.horizon_days=45",
    )
    assert out.returncode == 0, out.stderr
    parts = sorted(p.name for p in (data / "features").iterdir() if p.is_dir())
    assert parts[0] == "cutoff=2024-07-01" and len(parts) == 6
    meta = json.loads((data / "features" / "catalog.json").read_text())
    assert meta["labelled_cutoffs"][-1] == "2024-11-01"  # December + 45 days runs past the data
    assert meta["value_tiers"]["tiers"] == ["Lead", "Iron", "Gold", "Platinum"]
    first = pd.read_parquet(data / "features" / "cutoff=2024-07-01" / "part-0.parquet")
    last = pd.read_parquet(data / "features" / "cutoff=2024-12-01" / "part-0.parquet")
    assert first.churn.notna().all() and last.churn.isna().all()
    assert not first.duplicated("customer_id").any()
    assert {f["name"] for f in meta["features"]} <= set(first.columns)
    assert "features per cutoff" in out.stderr + out.stdout


def test_a_failed_build_leaves_the_previous_features(tiny_world, tmp_path):
    data = tmp_path / "d"
    shutil.copytree(tiny_world / "raw", data / "raw")
    churn("validate", f"paths.data_dir={data}")
    assert (
        churn(
            "features",
            f"paths.data_dir={data}",
            "cutoffs.start=2024-05-01",
            "cutoffs.end=2024-06-01",
        ).returncode
        == 0
    )
    before = sorted(p.name for p in (data / "features").iterdir())
    bad = churn("features", f"paths.data_dir={data}", "cutoffs.freq=hourly")
    assert bad.returncode == 2 and "cutoffs.freq" in bad.stderr
    assert sorted(p.name for p in (data / "features").iterdir()) == before
    assert not [p for p in data.iterdir() if p.name.startswith(".features")]


def test_unchanged_steps_are_skipped_and_say_so(tiny_world, tmp_path):
    data = tmp_path / "d"
    shutil.copytree(tiny_world / "raw", data / "raw")
    window = ["cutoffs.start=2024-05-01", "cutoffs.end=2024-06-01"]
    assert "warehouse ready" in churn("validate", f"paths.data_dir={data}").stderr
    assert "wrote" in churn("features", f"paths.data_dir={data}", *window).stderr
    again = churn("validate", f"paths.data_dir={data}").stderr
    assert "validate: inputs unchanged since the last run" in again
    assert (
        "features: inputs unchanged" in churn("features", f"paths.data_dir={data}", *window).stderr
    )
    wider = churn("features", f"paths.data_dir={data}", "cutoffs.start=2024-04-01", window[1])
    assert "wrote" in wider.stderr  # a changed config rebuilds
    (data / "raw" / "complaints.parquet").touch()  # so does a changed source file
    assert "warehouse ready" in churn("validate", f"paths.data_dir={data}").stderr


FOUR_CUTOFFS = ("cutoffs.start=2024-09-01", "cutoffs.end=2024-12-01")


def test_the_same_input_gives_the_same_bits(tiny_world, tmp_path):
    """Money is summed in whole units (exact in any order): rebuilt features are identical
    files, not merely close, however DuckDB's threads split the sums."""
    import hashlib

    data = tmp_path / "d"
    shutil.copytree(tiny_world / "raw", data / "raw")
    assert churn("validate", f"paths.data_dir={data}").returncode == 0
    digests = []
    for _ in range(3):
        out = churn("features", f"paths.data_dir={data}", "force=true", *FOUR_CUTOFFS)
        assert out.returncode == 0, out.stderr
        parts = sorted((data / "features").glob("cutoff=*/part-0.parquet"))
        digests.append([hashlib.sha256(p.read_bytes()).hexdigest() for p in parts])
    assert len(digests[0]) == 4 and digests[0] == digests[1] == digests[2]


def test_money_is_summed_in_exact_integer_units():
    import ibis

    from churn.features.digest import transaction_measures

    tx = ibis.table({"amount": "float64", "ts": "timestamp", "customer_id": "int64"}, name="tx")
    assert transaction_measures(tx)["amount"].type().is_integer()
