"""`make bench`: run every benchmarks/bench_*.py in its own process, then tabulate the results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def run_all(only: list[str]) -> None:
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem.removeprefix("bench_") not in only:
            continue
        print(f"== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True, cwd=HERE)


def cell(value) -> str:
    """A number with thousands separators (4 significant digits for a float); text as it is."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4g}" if isinstance(value, float) else str(value)


def write_table() -> Path:
    """benchmarks/results/README.md: one section per benchmark, one row per metric."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench`; one JSON per benchmark beside this file.",
        "",
    ]
    for path in sorted(RESULTS.glob("*.json")):
        result = json.loads(path.read_text())
        machine = result["machine"]
        lines += [
            f"## {result['name']}",
            "",
            f"{machine['cpus']} CPUs, Python {machine['python']}; params: "
            + ", ".join(f"`{k}={v}`" for k, v in result["params"].items()),
            "",
            "| metric | value |",
            "| --- | ---: |",
        ]
        lines += [f"| {k} | {cell(v)} |" for k, v in result["metrics"].items()]
        lines.append("")
    out = RESULTS / "README.md"
    out.write_text("\n".join(lines))
    return out


if __name__ == "__main__":
    run_all(sys.argv[1:])
    print(f"table: {write_table()}")
