"""One database handle shared by the three planes of a workspace.

``Database`` opens lazily, creates or checks the schema, hands out read and
write transactions, and keeps one raw driver connection per thread for the few
point lookups on the append hot path (a SQLAlchemy round trip costs ~10x more).
Statements on that path are still written once in SQLAlchemy Core and compiled
for the active dialect, so SQLite and PostgreSQL share them.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert, select

from contexta.errors import ReadOnlyStoreError, SchemaVersionError, StoreAccessError
from contexta.store.sql import schema
from contexta.store.sql.errors import translate_errors

__all__ = ["Backend", "Database", "HotStatement"]

_log = logging.getLogger(__name__)


class Backend(Protocol):
    name: str
    in_memory: bool
    read_only: bool

    def exists(self) -> bool: ...
    def prepare(self) -> None: ...
    def create_engine(self) -> Engine: ...
    def insert_ignore(self, table: Any) -> Any: ...
    def data_version_sql(self) -> str | None: ...


class HotStatement:
    """A Core statement compiled once for a dialect and run on a raw cursor."""

    def __init__(self, stmt: Any, engine: Engine) -> None:
        compiled = stmt.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.positional = compiled.positiontup is not None
        self.names: tuple[str, ...] = tuple(compiled.positiontup or compiled.params.keys())

    def args(self, *values: Any) -> Sequence[Any] | Mapping[str, Any]:
        """Bind values given in the statement's parameter order, for any paramstyle."""
        if self.positional:
            return values
        return dict(zip(self.names, values, strict=True))

    def params(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        if self.positional:
            return tuple(values[name] for name in self.names)
        return dict(values)


_open_databases: weakref.WeakSet[Database] = weakref.WeakSet()


def _reset_all_after_fork() -> None:
    for db in list(_open_databases):
        db._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_all_after_fork)


class Database:
    """Lazily opened engine plus schema management for one workspace."""

    def __init__(
        self,
        backend: Backend,
        *,
        auto_create: bool = True,
        auto_migrate: bool = False,
        label: str = "workspace database",
    ) -> None:
        self.backend = backend
        self.auto_create = auto_create
        self.auto_migrate = auto_migrate
        self.label = label
        self._engine: Engine | None = None
        self._empty: Engine | None = None
        self._lock = threading.RLock()
        self._writer_lock = threading.RLock()
        self._local = threading.local()
        self._hot_conns: list[Any] = []
        self._hot_statements: dict[str, HotStatement] = {}
        self._version_conn: Any = None
        self._local_writes = 0
        self._pid = os.getpid()
        _open_databases.add(self)

    # -- lifecycle -------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self.backend.read_only

    @property
    def engine(self) -> Engine:
        engine = self._engine
        if engine is not None:
            return engine
        with self._lock:
            if self._engine is None:
                self._engine = self._open()
            return self._engine

    @property
    def read_dialect(self) -> Any:
        """The dialect reads compile for, without creating a workspace that is not there."""
        return self._read_engine().dialect

    def _read_engine(self) -> Engine:
        """The engine for reads: the real one, or an empty schema while nothing exists.

        A workspace is created by its first write (contract.md §5.1): reading a
        workspace that does not exist yet must not leave a database behind, so
        reads see an empty private in-memory schema until the file appears.
        """
        if self._engine is not None or self.read_only or self.backend.exists():
            return self.engine
        with self._lock:
            if self._empty is None:
                from sqlalchemy import create_engine
                from sqlalchemy.pool import StaticPool

                empty = create_engine(
                    "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
                )
                schema.metadata_obj.create_all(empty)
                self._empty = empty
            return self._empty

    def _open(self) -> Engine:
        existed = self.backend.exists()
        if not existed and (self.read_only or not self.auto_create):
            path = getattr(self.backend, "path", "?")
            msg = f"{self.label} does not exist at {path}; it is not created because " + (
                "the store is read-only" if self.read_only else "auto_create is False"
            )
            raise StoreAccessError(msg, code="store_missing", details={"path": str(path)})
        with translate_errors(f"opening the {self.label}"):
            self.backend.prepare()
            engine = self.backend.create_engine()
            try:
                self._ensure_schema(engine)
            except BaseException:
                engine.dispose()
                raise
        return engine

    def _ensure_schema(self, engine: Engine) -> None:
        with engine.connect() as conn:
            has_schema = engine.dialect.has_table(conn, schema.schema_info.name)
            version = None
            if has_schema:
                version = conn.execute(
                    select(schema.schema_info.c.version).where(
                        schema.schema_info.c.plane == "workspace"
                    )
                ).scalar()
                conn.rollback()
        if version == schema.SCHEMA_VERSION:
            return
        if version is not None:
            self._check_version(version)
        if self.read_only:
            msg = f"{self.label} has no contexta schema and the store is read-only"
            raise StoreAccessError(msg, code="store_missing")
        with engine.connect().execution_options(contexta_write=True) as conn, conn.begin():
            schema.metadata_obj.create_all(conn, checkfirst=True)
            current = conn.execute(
                select(schema.schema_info.c.version).where(
                    schema.schema_info.c.plane == "workspace"
                )
            ).scalar()
            if current is None:
                conn.execute(
                    insert(schema.schema_info).values(
                        plane="workspace", version=schema.SCHEMA_VERSION
                    )
                )
                conn.execute(
                    insert(schema.migration_history).values(
                        version=schema.SCHEMA_VERSION,
                        description="create workspace schema",
                        applied_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    )
                )

    def _check_version(self, version: str) -> None:
        try:
            found = int(version)
        except ValueError:
            found = 10**9
        current = int(schema.SCHEMA_VERSION)
        if found > current:
            msg = (
                f"workspace schema version {version!r} was written by a newer contexta; "
                f"this release reads version {schema.SCHEMA_VERSION!r}: upgrade contexta"
            )
            raise SchemaVersionError(msg, code="schema_version_unsupported")
        if not self.auto_migrate:
            msg = (
                f"workspace schema version {version!r} is older than {schema.SCHEMA_VERSION!r}; "
                "open with metadata.auto_migrate=True or run the migration"
            )
            raise SchemaVersionError(msg, code="schema_version_outdated")

    def close(self) -> None:
        with self._lock:
            for conn in self._hot_conns:
                try:
                    conn.close()
                except Exception:  # closing must never raise
                    _log.debug("closing a raw connection failed", exc_info=True)
            self._hot_conns.clear()
            self._local = threading.local()
            if self._version_conn is not None:
                try:
                    self._version_conn.close()
                except Exception:
                    _log.debug("closing the version connection failed", exc_info=True)
                self._version_conn = None
            if self._engine is not None and not self.backend.in_memory:
                self._engine.dispose()
                self._engine = None

    def _after_fork(self) -> None:
        # Connections belong to the parent; the child opens its own.
        self._lock = threading.RLock()
        self._writer_lock = threading.RLock()
        self._local = threading.local()
        self._hot_conns = []
        self._version_conn = None
        if self._engine is not None:
            self._engine.dispose(close=False)
        self._pid = os.getpid()

    # -- transactions ----------------------------------------------------
    @contextmanager
    def read(self, action: str = "reading the workspace") -> Iterator[Connection]:
        with translate_errors(action), self._read_engine().connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()

    @contextmanager
    def write(self, action: str = "writing to the workspace") -> Iterator[Connection]:
        if self.read_only:
            msg = f"{action} is not allowed: the workspace is open read-only"
            raise ReadOnlyStoreError(msg, code="store_read_only")
        # Writers of one process queue on a lock of their own: SQLite's busy
        # handler sleeps in steps of milliseconds, which would turn every
        # in-process contention (e.g. the background indexer) into latency.
        with (
            self._writer_lock,
            translate_errors(action),
            self.engine.connect().execution_options(contexta_write=True) as conn,
            conn.begin(),
        ):
            yield conn
        self._local_writes += 1

    @contextmanager
    def raw_write(self, action: str = "writing to the workspace") -> Iterator[Any]:
        """A write transaction on this thread's driver connection; yields a cursor.

        The metadata puts run a handful of point statements each; going through
        SQLAlchemy's execution layer cost ~1 ms per put, this costs ~0.1 ms.
        """
        if self.read_only:
            msg = f"{action} is not allowed: the workspace is open read-only"
            raise ReadOnlyStoreError(msg, code="store_read_only")
        with self._writer_lock, translate_errors(action):
            conn = self._thread_conn()
            cur = conn.cursor()
            try:
                if self.backend.name == "sqlite":
                    cur.execute("BEGIN IMMEDIATE")
                yield cur
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()
            finally:
                cur.close()
        self._local_writes += 1

    # -- hot path ----------------------------------------------------------
    def hot_statement(self, name: str, build: Any) -> HotStatement:
        stmt = self._hot_statements.get(name)
        if stmt is None:
            stmt = HotStatement(build(), self.engine)
            self._hot_statements[name] = stmt
        return stmt

    def _thread_conn(self) -> Any:
        """This thread's driver connection (pooled connection kept for the store's life)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with translate_errors("opening the workspace database"):
                fairy = self.engine.raw_connection()
            with self._lock:
                self._hot_conns.append(fairy)
            conn = fairy.driver_connection
            self._local.conn = conn
        return conn

    def hot_query(self, stmt: HotStatement, params: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
        """Run a compiled read statement on this thread's raw connection.

        ``params`` are positional (in ``stmt.names`` order) or a mapping.
        """
        conn = self._local.__dict__.get("conn") or self._thread_conn()
        if type(params) is tuple:
            if not stmt.positional:
                params = stmt.args(*params)
        else:
            params = stmt.params(params)  # type: ignore[arg-type]
        try:
            cur = conn.cursor()
            cur.execute(stmt.sql, params)
            rows: list[Any] = cur.fetchall()
            cur.close()
            if self.backend.name != "sqlite":
                conn.rollback()
        except Exception as error:
            with translate_errors("reading the workspace"):
                raise error
        return rows

    @staticmethod
    def executemany(conn: Connection, stmt: HotStatement, rows: Sequence[Sequence[Any]]) -> None:
        """``executemany`` on the raw cursor of an open SQLAlchemy transaction.

        SQLAlchemy spends ~15 µs per row building parameters; the indexer writes
        thousands of rows per batch, so it hands positional tuples straight to
        the driver inside the same transaction.
        """
        raw = conn.connection.driver_connection
        cur = raw.cursor()  # type: ignore[union-attr]
        try:
            cur.executemany(stmt.sql, rows)
        finally:
            cur.close()

    def data_version(self) -> int:
        """A number that changes whenever anyone committed to the database."""
        if self._engine is None and not self.read_only and not self.backend.exists():
            return self._local_writes
        sql = self.backend.data_version_sql()
        if sql is None:
            with self.read() as conn:
                count = conn.execute(
                    select(schema.records.c.seq).order_by(schema.records.c.seq.desc()).limit(1)
                ).scalar()
            return (count or 0) * 1_000_003 + self._local_writes
        with self._lock, translate_errors("reading the workspace version"):
            if self._version_conn is None:
                self._version_conn = self.engine.raw_connection()
            cur = self._version_conn.cursor()
            cur.execute(sql)
            value = int(cur.fetchone()[0])
            cur.close()
        return value * 1_000_003 + self._local_writes
