"""Raw SQL and dataframe access to the metadata tables (contract.md §4.2).

``DuckDBAdapter`` keeps the reference's name for the raw SQL adapter of the
active backend. Frame adapters return one column per model field, built from
the stored canonical JSON, so they show exactly what the models hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, select, text

from contexta.errors import DependencyError, ValidationError
from contexta.store.metadata.entities import ENTITIES

if TYPE_CHECKING:
    from contexta.store.sql.engine import Database

__all__ = ["DuckDBAdapter", "FrameAdapterProtocol", "PandasAdapter", "PolarsAdapter"]

_LOGICAL = {
    "projects": "project",
    "runs": "run",
    "deployments": "deployment",
    "stages": "stage",
    "batches": "batch",
    "samples": "sample",
    "operations": "operation",
    "environments": "environment",
    "relations": "relation",
    "provenance": "provenance",
}


class DuckDBAdapter:
    """Raw SQL against the workspace database (SQL dialect is not part of the contract)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        with self._db.write("executing raw SQL") as conn:
            return int(conn.execute(text(sql), dict(params or {})).rowcount or 0)

    def query_all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._db.read("running a raw SQL query") as conn:
            return [dict(row) for row in conn.execute(text(sql), dict(params or {})).mappings()]

    def query_one(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        rows = self.query_all(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self._db.write("running a raw SQL transaction") as conn:
            yield conn


class FrameAdapterProtocol(Protocol):
    def table(self, name: str) -> Any: ...
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> Any: ...


def _rows(db: Database, name: str) -> list[dict[str, Any]]:
    entity = _LOGICAL.get(name)
    if entity is None:
        msg = f"table: {name!r} is not a metadata table; use one of {', '.join(_LOGICAL)}"
        raise ValidationError(
            msg, code="metadata_unknown_table", details={"field": "name", "value": name}
        )
    spec = ENTITIES[entity]
    with db.read() as conn:
        bodies = conn.execute(select(spec.table.c.body).order_by(spec.table.c.ref)).scalars().all()
    out = []
    for body in bodies:
        row = json.loads(body)
        out.append(
            {
                k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
                for k, v in row.items()
            }
        )
    return out


class PandasAdapter:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _pd(self) -> Any:
        try:
            import pandas as pd
        except ImportError as error:
            msg = "PandasAdapter needs pandas: pip install 'contexta[pandas]'"
            raise DependencyError(msg, code="dependency_missing", cause=error) from error
        return pd

    def table(self, name: str) -> Any:
        return self._pd().DataFrame(_rows(self._db, name))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._pd().DataFrame(DuckDBAdapter(self._db).query_all(sql, params))


class PolarsAdapter:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _pl(self) -> Any:
        try:
            import polars as pl
        except ImportError as error:
            msg = "PolarsAdapter needs polars: pip install 'contexta[polars]'"
            raise DependencyError(msg, code="dependency_missing", cause=error) from error
        return pl

    def table(self, name: str) -> Any:
        return self._pl().DataFrame(_rows(self._db, name))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._pl().DataFrame(DuckDBAdapter(self._db).query_all(sql, params))
