"""Rows that are there twice: an exact copy is kept once and its copies go to the rejects, where
nothing is lost and they are not counted as bad rows (a table whose identical lines are separate
events keeps them all: `data.tables.<table>.duplicates: keep_all`); a key repeated with other
content keeps its first row."""

from __future__ import annotations

import ibis

from churn.errors import ConfigError
from churn.validate.contracts import TableContract

# a row identical to an earlier one: kept once, the copies in the rejects (not counted as bad)
EXACT_DUPLICATE = "exact duplicate of an earlier row (kept once)"
DUPLICATES = ("keep_one", "keep_all")


def duplicate_reasons(
    contract: TableContract, raw: ibis.Table, typed: dict, duplicates: str = "keep_one"
) -> list:
    """Exact copies of a row are kept once (the copies are rejects that lose nothing) unless the
    table keeps them all; a key repeated with other content keeps its first row (in the order of
    the row's values) and rejects the later ones, naming the key."""
    if duplicates not in DUPLICATES:
        raise ConfigError(
            f"data.tables.{contract.name}.duplicates={duplicates!r}: use {' or '.join(DUPLICATES)}"
        )
    columns = [raw[c] for c in raw.columns]
    out = []
    if duplicates == "keep_one":
        copy = ibis.row_number().over(ibis.window(group_by=columns))
        out.append((copy > 0, EXACT_DUPLICATE))
    for key in (k for k in contract.key if k in typed):
        order = ibis.window(group_by=typed[key], order_by=columns)
        distinct = ibis.dense_rank().over(order)  # copies of one row share a rank
        said = f"{key} repeats an earlier row with other values (the first is kept): '"
        out.append(
            (
                typed[key].notnull() & (distinct > 0),
                said + typed[key].cast("string") + "'",
            )
        )
    return out
