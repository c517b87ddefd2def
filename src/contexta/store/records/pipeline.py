"""Moving appended records from ``RecordStore``'s memory into the database.

Appended columns wait in ``_pending`` until 1,000 accumulate, appends pause for 0.2 s
or the oldest waited 2 s, a read needs them, or the store closes. Full batches are
indexed by the background step of ``indexer.py`` on the other core while the appending
thread goes on (its multi-row inserts step without the GIL, ``bulk_insert.py``); the
appending thread only helps when that step falls ``_MAX_BACKLOG`` batches behind.
They are then handed off, oldest first, as ``(spool writer, rows)`` batches and
indexed strictly in spool order under ``_index_lock``: each batch records how
far its spool is indexed, so a crash never indexes a line twice or skips one.
Before a read, ``_sync`` also indexes the spools of dead writers (at most once
a second).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from contexta.errors import ContextaError
from contexta.store.records import indexer
from contexta.store.records.live_spools import LiveSpools
from contexta.store.records.recovery import recover_orphan_spools

if TYPE_CHECKING:
    from contexta.store.records.appends import Pending
    from contexta.store.records.spool import SpoolWriter
    from contexta.store.sql.engine import Database

__all__ = ["IndexPipeline"]

_log = logging.getLogger(__name__)
_ROTATE_BYTES = 64 * 1024 * 1024
_ORPHAN_SCAN_EVERY_S = 1.0
_TRANSACTION_ROWS = 1000
#: Handed-off batches the background thread may fall behind by before appenders help.
_MAX_BACKLOG = 4
#: Longest a record waits unindexed while its process keeps appending.
MAX_LAG_S = 2.0


def _transactions(batch: Pending) -> list[Pending]:
    """``batch`` cut into parts of about ``_TRANSACTION_ROWS`` rows, at spool entry ends.

    Short transactions keep the capture thread's metadata puts from queueing long behind
    the indexer. A part never splits an ``append_many`` entry (its rows share one end
    offset): progress is recorded per part, so a part must hold whole entries.
    """
    parts: list[Pending] = []
    start = 0
    total = len(batch)
    while start < total:
        stop = min(start + _TRANSACTION_ROWS, total)
        last_end = batch[stop - 1][0]
        while stop < total and batch[stop][0] == last_end:
            stop += 1
        parts.append(batch[start:stop])
        start = stop
    return parts


class IndexPipeline:
    """Hand-off, draining and pre-read sync (mixed into ``RecordStore``)."""

    _db: Database
    _root: Path
    _lock: threading.RLock
    _index_lock: threading.Lock
    _writer: SpoolWriter | None
    _pending: Pending
    _handed: deque[tuple[SpoolWriter, Pending]]
    _pending_refs: dict[str, tuple[str, int]]
    _pending_since: float
    _last_append: float
    _last_orphan_scan: float
    _live_spools: LiveSpools

    if TYPE_CHECKING:  # provided by the lifecycle part of ``RecordStore``

        @property
        def read_only(self) -> bool: ...

    def _hand_off(self, *, wake: bool = True) -> None:
        """Queue the pending records for indexing; the caller holds ``_lock``."""
        if not self._pending:
            return
        writer = self._writer
        assert writer is not None
        self._handed.append((writer, self._pending))
        self._pending = []
        if writer.size > _ROTATE_BYTES:
            self._writer = None  # the next append starts a new spool; this one goes once indexed
        if wake:
            indexer.wake()

    def _drain(self, *, blocking: bool = True) -> None:
        """Index handed-off batches, oldest first. Never call it holding ``_lock``."""
        if not self._index_lock.acquire(blocking=blocking):
            return
        try:
            while True:
                with self._lock:
                    if not self._handed:
                        return
                    writer, batch = self._handed[0]
                for part in _transactions(batch):
                    with self._db.write("indexing appended records") as conn:
                        done = indexer.read_progress(conn, writer.name)
                        rows = [columns for end, columns in part if end > done]
                        if rows:
                            indexer.insert_rows(self._db, conn, rows)
                        # A reader in another process may have indexed further already
                        # (live_spools.py): progress never moves back.
                        indexer.write_progress(conn, writer.name, max(done, part[-1][0]))
                with self._lock:
                    self._handed.popleft()
                    refs = self._pending_refs
                    for _, columns in batch:
                        refs.pop(columns["record_ref"], None)
                    if writer is not self._writer and all(w is not writer for w, _ in self._handed):
                        writer.close(remove=True)  # a rotated spool, now fully indexed
                        self._forget_progress(writer.name)
        finally:
            self._index_lock.release()

    def _drain_quietly(self, *, blocking: bool = True) -> None:
        try:
            self._drain(blocking=blocking)
        except ContextaError:
            _log.warning("indexing records failed; they stay safe in the spool", exc_info=True)

    def _drain_if_behind(self) -> None:
        """After a hand-off: let the background thread index, unless it is far behind."""
        if len(self._handed) > _MAX_BACKLOG:
            self._drain_quietly()

    def _index_if_due(self, age_s: float) -> None:
        """Background step: index handed-off batches; hand off pending records once
        appends pause for ``age_s`` or the oldest waited ``MAX_LAG_S``.

        Fewer than 1,000 pending records are not handed off while appends go on: small
        transactions would keep the capture thread's metadata puts waiting for the
        write lock for little gain.
        """
        if self._pending and self._lock.acquire(blocking=False):
            try:
                now = time.monotonic()
                idle = now - self._last_append >= age_s
                if self._pending and (idle or now - self._pending_since >= MAX_LAG_S):
                    self._hand_off()
            finally:
                self._lock.release()
        if self._handed:
            self._drain_quietly(blocking=False)

    def _forget_progress(self, name: str) -> None:
        try:
            with self._db.write("cleaning spool progress") as conn:
                indexer.delete_progress(conn, name)
        except ContextaError:
            _log.debug("could not clean spool progress for %s", name, exc_info=True)

    def _recover_orphans(self, *, force: bool = False) -> None:
        if self.read_only:
            return
        now = time.monotonic()
        if not force and now - self._last_orphan_scan < _ORPHAN_SCAN_EVERY_S:
            return
        self._last_orphan_scan = now
        own = self._writer.name if self._writer is not None else None
        recover_orphan_spools(self._db, self._root, own)

    def _sync(self) -> None:
        """Before a read: make the appends of this process, of dead writers' spools and of
        other live writers visible."""
        with self._lock:
            self._hand_off()
        self._drain_quietly()
        with self._lock:
            try:
                self._recover_orphans()
            except ContextaError:
                _log.warning("recovering records of a dead writer failed", exc_info=True)
            if not self.read_only:
                own = self._writer.name if self._writer is not None else None
                try:
                    self._live_spools.catch_up(self._db, self._root, own)
                except ContextaError:
                    _log.warning("indexing another process's appends failed; they stay "
                                 "safe in its spool", exc_info=True)
