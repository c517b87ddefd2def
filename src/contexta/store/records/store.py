"""``RecordStore``: durable, concurrent, fast appends and indexed reads.

Appends go to this process's spool (``spool.py``) and are acknowledged once the
bytes are in the kernel; they are moved into the database in batches (at 1,000
pending records, every 0.2 s in the background, before any read in this
process, and at close or exit). Opening a workspace indexes spools left by dead
processes. See contract.md §4.4 and architecture.md §3.

The class is assembled from one part per job: ``appends.py`` (validation,
deduplication, spool writes), ``pipeline.py`` (hand-off and indexing),
``reads.py`` (scans and rows), ``snapshot_reads.py`` (bulk reads for snapshots)
and, here, construction, lifecycle and the integrity entry points.

A full batch from ``append_many`` is handed to the background indexer thread,
so the caller builds the next batch while SQLite (which releases the GIL)
inserts the previous one; at most two batches wait, which bounds memory.
``append`` indexes a full batch itself (handing single appends over made both
threads fight for the GIL at every syscall).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import func, select

from contexta.errors import ContextaError, ReadOnlyStoreError
from contexta.store.records import indexer
from contexta.store.records.appends import AppendPath, Pending
from contexta.store.records.live_spools import LiveSpools
from contexta.store.records.models import DurabilityStatus, ScanFilter, StoredRecord
from contexta.store.records.pipeline import IndexPipeline
from contexta.store.records.reads import ReadPath
from contexta.store.records.snapshot_reads import SnapshotReads
from contexta.store.records.spool import SequenceCounter, SpoolWriter
from contexta.store.sql import schema

if TYPE_CHECKING:
    from contexta.config import RecordStoreConfig
    from contexta.store.metadata.store import MetadataStore
    from contexta.store.records.models import (
        IntegrityReport,
        RepairReport,
        ReplayMode,
        ReplayResult,
    )
    from contexta.store.sql.engine import Database

__all__ = ["RecordStore"]

_log = logging.getLogger(__name__)


class RecordStore(AppendPath, IndexPipeline, ReadPath, SnapshotReads):
    """Events, metrics, spans and degraded markers of a workspace."""

    def __init__(
        self,
        config: RecordStoreConfig | None = None,
        *,
        metadata_store: MetadataStore | None = None,
    ) -> None:
        if config is None:
            from contexta.config import UnifiedConfig

            config = UnifiedConfig().records
        self.config = config
        self._metadata = metadata_store
        self.detached = metadata_store is None
        self._root = (
            Path(config.root_path)
            if config.root_path is not None
            else Path(".contexta/records").resolve()
        )
        if metadata_store is not None:
            self._db: Database = metadata_store._db
        else:
            from contexta.store.sql._sqlite import SqliteBackend
            from contexta.store.sql.engine import Database

            backend = SqliteBackend(
                self._root / "records.sqlite3",
                read_only=config.read_only,
                durability=config.durability_mode,
            )
            self._db = Database(backend, label="record store database")
        self._fsync = config.durability_mode == "fsync"
        self._status = DurabilityStatus.FSYNCED if self._fsync else DurabilityStatus.FLUSHED
        self._lock = threading.RLock()
        self._writer: SpoolWriter | None = None
        self._counter = SequenceCounter(self._root / "sequence")
        # Appended, not yet handed to indexing: (spool end offset, columns).
        self._pending: Pending = []
        # Handed to indexing, oldest first: (spool writer, its pending rows).
        self._handed: deque[tuple[SpoolWriter, Pending]] = deque()
        self._index_lock = threading.Lock()
        # (body, sequence) of every appended record not yet committed to the database.
        self._pending_refs: dict[str, tuple[str, int]] = {}
        self._pending_since = 0.0
        self._last_append = 0.0
        self._live_spools = LiveSpools()
        self._known_runs: set[str] = set()
        self._opened = False
        self._last_orphan_scan = 0.0

    # -- lifecycle ------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return bool(self.config.read_only or self._db.read_only)

    @property
    def root_path(self) -> Path:
        return self._root

    def _open_for_writes(self) -> None:
        """First write: recover dead spools, align the counter, start our spool."""
        if self.read_only:
            msg = "appending records is not allowed: the record store is open read-only"
            raise ReadOnlyStoreError(msg, code="store_read_only")
        if not self._opened:
            self._recover_orphans(force=True)
            with self._db.read("reading the record sequence") as conn:
                top = conn.execute(select(func.max(schema.records.c.seq))).scalar() or 0
            self._counter.raise_floor(int(top))
            self._opened = True
        if self._writer is None:
            self._writer = SpoolWriter(self._root / "spool", fsync=self._fsync)
            indexer.register(self)

    def flush(self) -> None:
        """Index everything this process appended, so every process can read it."""
        with self._lock:
            self._hand_off()
        self._drain()

    def close(self) -> None:
        """Index pending records, remove our spool, release connections. Idempotent."""
        with self._lock:
            self._hand_off()
        try:
            self._drain()
        except ContextaError:
            # The spool still holds them; the next open indexes them.
            _log.warning("records left in the spool at close; they are indexed on next open")
        with self._lock:
            unindexed = {id(writer) for writer, _ in self._handed}
            writers = {id(writer): writer for writer, _ in self._handed}
            if self._writer is not None:
                writers[id(self._writer)] = self._writer
            for key, writer in writers.items():
                writer.close(remove=key not in unindexed)
                if key not in unindexed:
                    self._forget_progress(writer.name)
            self._writer = None
            self._handed.clear()
            self._pending_refs = {}
            self._counter.close()
        if self.detached:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _after_fork(self) -> None:
        # The child must neither index nor remove the parent's spool.
        self._lock = threading.RLock()
        self._index_lock = threading.Lock()
        writers = {id(w): w for w, _ in self._handed}
        if self._writer is not None:
            writers[id(self._writer)] = self._writer
        for writer in writers.values():
            os.close(writer.fd)
        self._writer = None
        self._pending = []
        self._handed = deque()
        self._pending_refs = {}
        self._counter.forget_after_fork()

    # -- replay, export, integrity ---------------------------------------------------
    def replay(
        self, scan_filter: ScanFilter | None = None, *, mode: ReplayMode | str | None = None
    ) -> ReplayResult:
        from contexta.store.records.integrity import replay

        return replay(self, scan_filter, mode=mode)

    def iter_replay(
        self, scan_filter: ScanFilter | None = None, *, mode: ReplayMode | str | None = None
    ) -> Iterator[StoredRecord]:
        from contexta.store.records.integrity import iter_replay

        return iter_replay(self, scan_filter, mode=mode)

    def export_jsonl(
        self,
        destination: str | Path,
        scan_filter: ScanFilter | None = None,
        *,
        mode: ReplayMode | str | None = None,
    ) -> ReplayResult:
        from contexta.store.records.integrity import export_jsonl

        return export_jsonl(self, destination, scan_filter, mode=mode)

    def check_integrity(self) -> IntegrityReport:
        from contexta.store.records.integrity import check_integrity

        return check_integrity(self)

    def repair(self) -> RepairReport:
        from contexta.store.records.integrity import repair

        return repair(self)

    def rebuild_indexes(self) -> RepairReport:
        from contexta.store.records.integrity import rebuild_indexes

        return rebuild_indexes(self)

    def repair_truncated_tails(self) -> RepairReport:
        from contexta.store.records.integrity import repair_truncated_tails

        return repair_truncated_tails(self)
