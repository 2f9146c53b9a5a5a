"""Event tables written while the world runs: memory holds a buffer per table, not its history.

Each table's chunks are buffered until `flush_rows` rows, converted (`tables.EVENT_TABLES`) and
appended to its parquet file as a row group. The same seed gives the same chunks in the same
order, so the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FLUSH_ROWS = 2_000_000


class TableSink:
    def __init__(
        self,
        folder: Path,
        converters: Mapping[str, Callable[[dict, int], pa.Table]],
        flush_rows: int = FLUSH_ROWS,
    ):
        self.folder, self.converters, self.flush_rows = Path(folder), converters, flush_rows
        self.buffers: dict[str, list[dict[str, np.ndarray]]] = {}
        self.buffered: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self.writers: dict[str, pq.ParquetWriter] = {}

    def add(self, table: str, columns: dict[str, np.ndarray]) -> None:
        self.buffers.setdefault(table, []).append(columns)
        self.buffered[table] = self.buffered.get(table, 0) + len(next(iter(columns.values())))
        if self.buffered[table] >= self.flush_rows:
            self.flush(table)

    def flush(self, table: str) -> None:
        parts = self.buffers.pop(table, [])
        self.buffered[table] = 0
        if not parts:
            return
        chunk = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        arrow = self.converters[table](chunk, self.rows.get(table, 0))
        if table not in self.writers:
            path = self.folder / f"{table}.parquet"
            self.writers[table] = pq.ParquetWriter(path, arrow.schema, compression="zstd")
        self.writers[table].write_table(arrow)
        self.rows[table] = self.rows.get(table, 0) + arrow.num_rows

    def close(self) -> dict[str, int]:
        """Flush what is buffered and close every file; returns the rows written per table."""
        for table in list(self.buffers):
            self.flush(table)
        for writer in self.writers.values():
            writer.close()
        self.writers = {}
        return dict(self.rows)
