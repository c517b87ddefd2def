"""Inserting record rows into SQLite with one multi-row statement per chunk.

``executemany`` runs one ``sqlite3_step`` per row and needs the GIL back after each. In a
background indexer that means waiting for the capture thread's switch interval on every
row, so indexing crawls and holds the write lock meanwhile. A multi-row
``INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING`` binds a whole chunk up front and
inserts it in a single step without the GIL: indexing then runs beside the pipeline on
another core, and it is also faster on its own (fewer round trips through the driver).
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["SqliteBulkInsert"]

_MAX_CHUNK_ROWS = 400


class SqliteBulkInsert:
    """``INSERT OR IGNORE``-style chunked inserts of row dicts into one table."""

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self._table = table
        self._columns = tuple(columns)
        self._values: Callable[[dict[str, Any]], tuple[Any, ...]] = operator.itemgetter(
            *self._columns
        )
        self._sql: dict[int, str] = {}

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            one = "(" + ",".join("?" * len(self._columns)) + ")"
            sql = (
                f"INSERT INTO {self._table} ({','.join(self._columns)}) VALUES "
                + ",".join([one] * rows)
                + " ON CONFLICT DO NOTHING"
            )
            if len(self._sql) < 16:
                self._sql[rows] = sql
        return sql

    def chunk_rows(self, connection: sqlite3.Connection) -> int:
        """Rows per statement within this SQLite build's limit on bound variables."""
        limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return max(1, min(_MAX_CHUNK_ROWS, limit // len(self._columns)))

    def insert(self, connection: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> int:
        """Insert ``rows`` (skipping conflicts); return how many were inserted."""
        size = self.chunk_rows(connection)
        values = self._values
        inserted = 0
        cursor = connection.cursor()
        try:
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                flat = list(itertools.chain.from_iterable(map(values, chunk)))
                cursor.execute(self._statement(len(chunk)), flat)
                inserted += cursor.rowcount
        finally:
            cursor.close()
        return inserted
