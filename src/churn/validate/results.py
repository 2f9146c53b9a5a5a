"""What a load reports: rows in, loaded and rejected per table, by reason, with examples; and
the message of a load that stopped on too many rejects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from churn.validate.duplicates import EXACT_DUPLICATE

log = logging.getLogger(__name__)


@dataclass
class TableResult:
    table: str
    rows_in: int
    rows_loaded: int
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    examples: pd.DataFrame | None = None

    @property
    def rejected(self) -> int:
        return self.rows_in - self.rows_loaded

    @property
    def kept_once(self) -> int:
        """Copies of an exact duplicate row: in the rejects, but nothing was lost."""
        return self.rejects_by_reason.get(EXACT_DUPLICATE, 0)

    @property
    def reject_fraction(self) -> float:
        """Rows rejected for what they hold (copies of a row kept once do not count)."""
        return (self.rejected - self.kept_once) / self.rows_in if self.rows_in else 0.0


def describe_overflow(results: list[TableResult], limit: float) -> str:
    """Every table with rejects, upstream first: a table under the limit (a few bad customers)
    can be the cause of one over it (their events rejected as unknown customers)."""
    lines = [f"too many rejected rows (validate.max_reject_fraction={limit}); nothing was loaded:"]
    for r in [r for r in results if r.rejected]:
        over = "over the limit" if r.reject_fraction > limit else "under the limit"
        lines.append(
            f"- table {r.table!r}: {r.rejected:,} of {r.rows_in:,} rows rejected "
            f"({r.reject_fraction:.1%} counted, {over})"
        )
        lines += [f"    {n:,} x {reason}" for reason, n in r.rejects_by_reason.items()]
        if r.examples is not None:
            lines.append("    examples:\n" + r.examples.to_string(index=False, max_colwidth=40))
    lines.append("Fix the source rows, or raise validate.max_reject_fraction if this is expected.")
    return "\n".join(lines)


def summarize(results: list[TableResult]) -> dict[str, Any]:
    return {
        r.table: {
            "rows_in": r.rows_in,
            "rows_loaded": r.rows_loaded,
            "rejected": r.rejected,
            "rejects_by_reason": r.rejects_by_reason,
        }
        for r in results
    }


def log_results(results: list[TableResult]) -> None:
    for r in results:
        log.info(
            "%-16s %12s in %12s loaded %9s rejected",
            r.table,
            f"{r.rows_in:,}",
            f"{r.rows_loaded:,}",
            f"{r.rejected:,}",
        )
        for reason, n in r.rejects_by_reason.items():
            log.warning("  rejects_%s: %s x %s", r.table, f"{n:,}", reason)
        if r.examples is not None:
            log.warning("  examples:\n%s", r.examples.to_string(index=False, max_colwidth=40))
