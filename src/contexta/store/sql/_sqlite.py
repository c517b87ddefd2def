"""SQLite specifics: file URL, pragmas, explicit BEGIN, data_version."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.pool import StaticPool

__all__ = ["SqliteBackend"]

BUSY_TIMEOUT_MS = 30_000
# A checkpoint copies the WAL into the database and syncs both files; SQLite's default
# (every 1,000 pages, ~4 MB) made every other 1,000-record index commit pay one.
WAL_AUTOCHECKPOINT_PAGES = 16_384


class SqliteBackend:
    """One SQLite file in WAL mode.

    WAL lets readers in other processes work while one writer commits; a busy
    timeout of 30 s turns contention into waiting (contract.md §4.1). With
    ``synchronous=NORMAL`` a commit is a ``write()`` into the WAL, which survives
    the process being killed; ``fsync`` durability switches to ``FULL``.
    """

    name = "sqlite"

    def __init__(self, path: Path | str, *, read_only: bool, durability: str) -> None:
        self.path = path
        self.read_only = read_only
        self.durability = durability
        self.in_memory = str(path) == ":memory:"

    def exists(self) -> bool:
        return self.in_memory or Path(self.path).exists()

    def prepare(self) -> None:
        if not self.in_memory and not self.read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)

    def create_engine(self) -> Engine:
        if self.in_memory:
            engine = create_engine(
                "sqlite://",
                poolclass=StaticPool,
                connect_args={"check_same_thread": False},
            )
        else:
            path = Path(self.path)
            if self.read_only:
                url = f"sqlite:///file:{path.as_posix()}?mode=ro&uri=true"
            else:
                url = f"sqlite:///{path.as_posix()}"
            engine = create_engine(
                url,
                pool_size=8,
                max_overflow=32,
                connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            )
        synchronous = "FULL" if self.durability == "fsync" else "NORMAL"
        read_only = self.read_only
        in_memory = self.in_memory

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            # Transactions are begun explicitly below, so the driver must not.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if not in_memory and not read_only:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # A write transaction takes the lock up front: a deferred one that
            # reads first and writes later fails at once under WAL instead of
            # waiting for the busy timeout.
            if conn.get_execution_options().get("contexta_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine

    def insert_ignore(self, table: Any) -> Any:
        return sqlite_insert(table).on_conflict_do_nothing()

    def data_version_sql(self) -> str:
        return "PRAGMA data_version"
