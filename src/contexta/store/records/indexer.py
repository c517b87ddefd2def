"""Moving spooled records into the database, and the background step that does it.

Indexing is idempotent: a record whose ref is already indexed with the same
JSON is skipped, one with different JSON is kept aside as a
``record_ref_conflict`` anomaly (two processes raced on one ref), so replaying
a spool twice stores nothing twice and loses nothing.
"""

from __future__ import annotations

import atexit
import logging
import operator
import os
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from contexta.store.records.bulk_insert import SqliteBulkInsert
from contexta.store.sql import schema

if TYPE_CHECKING:
    from contexta.store.records.store import RecordStore
    from contexta.store.sql.engine import Database

__all__ = [
    "delete_progress",
    "insert_rows",
    "note_anomaly",
    "read_progress",
    "wake",
    "write_progress",
]

_log = logging.getLogger(__name__)
_CHUNK = 500
_SQLITE_BULK = SqliteBulkInsert(schema.records.name, [c.name for c in schema.records.columns])


def _now_us() -> int:
    return time.time_ns() // 1000


def note_anomaly(
    conn: Connection,
    code: str,
    message: str,
    *,
    record_ref: str | None = None,
    body: str | None = None,
) -> None:
    conn.execute(
        insert(schema.record_anomalies).values(
            code=code, record_ref=record_ref, message=message, body=body, found_us=_now_us()
        )
    )


def insert_rows(db: Database, conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping identical re-appends; returns how many were new.

    Fast path: one ``INSERT ... ON CONFLICT DO NOTHING`` for the whole batch.
    Only when some rows were skipped are the colliding refs looked up: an
    identical body is a replay (fine), a different body is a cross-process
    ``record_ref_conflict`` (kept aside), and a row whose ref is absent collided
    on its sequence number and is re-numbered rather than lost.
    """
    if db.backend.name == "sqlite":
        inserted = _SQLITE_BULK.insert(conn.connection.driver_connection, rows)  # type: ignore[arg-type]
    else:
        stmt = db.hot_statement("insert_record_ignore", lambda: _insert_statement(db))
        if stmt.positional:
            values = operator.itemgetter(*stmt.names)
            inserted = _executemany_count(conn, stmt, map(values, rows))
        else:  # named placeholders (psycopg): one mapping per row
            names = stmt.names
            inserted = _executemany_count(
                conn, stmt, ({name: row[name] for name in names} for row in rows)
            )
    if inserted == len(rows):
        return inserted
    records = schema.records
    seqs = {row["seq"] for row in rows}
    stored: dict[str, tuple[int, str]] = {}
    refs = [row["record_ref"] for row in rows]
    for start in range(0, len(refs), _CHUNK):
        chunk = refs[start : start + _CHUNK]
        for ref, seq, body in conn.execute(
            select(records.c.record_ref, records.c.seq, records.c.body).where(
                records.c.record_ref.in_(chunk)
            )
        ):
            stored[ref] = (int(seq), body)
    renumber: list[dict[str, Any]] = []
    for row in rows:
        prior = stored.get(row["record_ref"])
        if prior is None:
            renumber.append(row)
        elif prior[0] == row["seq"] and prior[0] in seqs:
            continue  # inserted just now, or an identical replay of the same entry
        elif prior[1] != row["body"]:
            note_anomaly(
                conn,
                "record_ref_conflict",
                f"record {row['record_ref']} was appended twice with different content; the "
                f"first one is kept (sequence {row['seq']} set aside)",
                record_ref=row["record_ref"],
                body=row["body"],
            )
    for row in renumber:
        top = conn.execute(select(func.max(records.c.seq))).scalar() or 0
        fixed = dict(row, seq=int(top) + 1)
        note_anomaly(
            conn,
            "duplicate_sequence",
            f"record {row['record_ref']} arrived with sequence {row['seq']}, already taken; "
            f"stored as {fixed['seq']}",
            record_ref=row["record_ref"],
        )
        conn.execute(insert(records).values(**fixed))
    return inserted + len(renumber)


def _executemany_count(conn: Connection, stmt: Any, rows: Iterable[tuple[Any, ...]]) -> int:
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    try:
        cur.executemany(stmt.sql, rows)
        return int(cur.rowcount)
    finally:
        cur.close()


def _insert_statement(db: Database) -> Any:
    table = schema.records
    values = {column.name: bindparam(column.name) for column in table.columns}
    return db.backend.insert_ignore(table).values(values)


def read_progress(conn: Connection, spool: str) -> int:
    value = conn.execute(
        select(schema.spool_progress.c.offset).where(schema.spool_progress.c.spool == spool)
    ).scalar()
    return int(value or 0)


def write_progress(conn: Connection, spool: str, offset: int) -> None:
    table = schema.spool_progress
    done = conn.execute(update(table).where(table.c.spool == spool).values(offset=offset))
    if done.rowcount == 0:
        conn.execute(insert(table).values(spool=spool, offset=offset))


def delete_progress(conn: Connection, spool: str) -> None:
    conn.execute(delete(schema.spool_progress).where(schema.spool_progress.c.spool == spool))


# -- background step ------------------------------------------------------------

INDEX_INTERVAL_S = 0.2
_stores: weakref.WeakSet[RecordStore] = weakref.WeakSet()
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()
_wake = threading.Event()


def register(store: RecordStore) -> None:
    """Make sure the background step runs and serves ``store``."""
    global _thread
    _stores.add(store)
    with _thread_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="contexta-indexer", daemon=True)
            _thread.start()


def wake() -> None:
    """Have the background step run now (a batch was handed off)."""
    _wake.set()


def _loop() -> None:
    while True:
        _wake.wait(INDEX_INTERVAL_S)
        _wake.clear()
        for store in list(_stores):
            try:
                store._index_if_due(INDEX_INTERVAL_S)
            except Exception:  # never let the indexer die; the data is safe in the spool
                _log.warning("background indexing failed; will retry", exc_info=True)


def _flush_all_at_exit() -> None:
    for store in list(_stores):
        try:
            store.close()
        except Exception:
            _log.warning("flushing records at exit failed; the spool keeps them", exc_info=True)


def _after_fork_in_child() -> None:
    global _thread
    _thread = None
    for store in list(_stores):
        store._after_fork()
    _stores.clear()


atexit.register(_flush_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def iter_chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
