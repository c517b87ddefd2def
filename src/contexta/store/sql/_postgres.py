"""PostgreSQL specifics for the team backend (``postgresql://`` URLs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert

__all__ = ["PostgresBackend"]


class PostgresBackend:
    """A shared PostgreSQL database; many processes on many machines."""

    name = "postgresql"
    in_memory = False

    def __init__(self, url: str, *, read_only: bool, durability: str) -> None:
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        self.url = url
        self.read_only = read_only
        self.durability = durability

    def exists(self) -> bool:
        return True

    def prepare(self) -> None:
        return None

    def create_engine(self) -> Engine:
        try:
            import psycopg  # noqa: F401
        except ImportError as error:
            from contexta.errors import DependencyError

            msg = (
                "metadata.database_url selects PostgreSQL, which needs the driver: "
                "pip install 'contexta[postgresql]'"
            )
            raise DependencyError(msg, code="dependency_missing", cause=error) from error
        engine = create_engine(self.url, pool_size=8, max_overflow=32, pool_pre_ping=True)
        read_only = self.read_only

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            if read_only:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")

        return engine

    def insert_ignore(self, table: Any) -> Any:
        return pg_insert(table).on_conflict_do_nothing()

    def data_version_sql(self) -> str | None:
        return None
