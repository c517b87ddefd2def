"""``RecordStore``: durable, concurrent, fast appends and indexed reads.

Appends go to this process's spool (``spool.py``) and are acknowledged once the
bytes are in the kernel; ``indexer.py`` moves them into the database in batches
(at 1,000 pending records, every 0.2 s in the background, before any read in
this process, and at close or exit). Opening a workspace indexes spools left by
dead processes. See contract.md §4.4 and architecture.md §3.

A full batch from ``append_many`` is handed to the background indexer thread,
so the caller builds the next batch while SQLite (which releases the GIL)
inserts the previous one; at most ``_MAX_HANDED`` batches wait, which bounds
memory. ``append`` indexes a full batch itself (handing single appends over
made both threads fight for the GIL at every syscall). Batches are indexed
strictly in spool order under ``_index_lock``: each records how far its spool
is indexed.
"""

from __future__ import annotations

import heapq
import logging
import operator
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import func, select

from contexta.contract import to_json
from contexta.contract.timestamps import normalize_timestamp, timestamp_to_micros
from contexta.errors import ContextaError, ReadOnlyStoreError, ValidationError, truncate_value
from contexta.store.metadata.repository import coerce_ref
from contexta.store.records import indexer
from contexta.store.records.codec import RECORD_CLASSES, record_from_json
from contexta.store.records.errors import RecordConflictError, RecordNotFoundError
from contexta.store.records.models import (
    AppendReceipt,
    AppendResult,
    DurabilityStatus,
    ScanFilter,
    StoredRecord,
)
from contexta.store.records.recovery import recover_orphan_spools
from contexta.store.records.rows import (
    MetricValueRow,
    RecordRow,
    columns_from_record,
    decode_value,
)
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
_INDEX_AT = 1000
_MAX_HANDED = 2
_ROTATE_BYTES = 64 * 1024 * 1024
_PAGE = 1000
_LOOKUP = 500
_ORPHAN_SCAN_EVERY_S = 1.0

_ROW_COLUMNS = (
    "seq",
    "record_ref",
    "record_type",
    "run_ref",
    "stage_ref",
    "batch_ref",
    "sample_ref",
    "operation_ref",
    "deployment_ref",
    "key",
    "value_int",
    "value_real",
    "value_text",
    "step",
    "observed_at",
    "recorded_at",
    "completeness",
    "degradation",
    "producer",
    "severity",
    "body",
)


def _row_from_tuple(r: Any) -> RecordRow:
    """A ``RecordRow`` from a row in ``_ROW_COLUMNS`` order (positional: no key lookups)."""
    value = r[10]
    if value is None:
        value = r[11] if r[11] is not None else decode_value(None, None, r[12])
    return RecordRow(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
        value, r[13], r[14], r[15], r[16], r[17], r[18], r[19], r[20],
    )  # fmt: skip


def _canonical_from_us(us: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(us / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RecordStore:
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
        self._pending: list[tuple[int, dict[str, Any]]] = []
        # Handed to indexing, oldest first: (spool writer, its pending rows).
        self._handed: deque[tuple[SpoolWriter, list[tuple[int, dict[str, Any]]]]] = deque()
        self._index_lock = threading.Lock()
        # (body, sequence) of every appended record not yet committed to the database.
        self._pending_refs: dict[str, tuple[str, int]] = {}
        self._pending_since = 0.0
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
        import os

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

    # -- appends ----------------------------------------------------------------
    def append(self, record: Any) -> AppendResult:
        """Append one record durably; an identical re-append is a no-op."""
        if type(record) not in RECORD_CLASSES:
            self._validated_body(0, record, True)
        body = to_json(record)
        env = record.envelope
        ref = env.record_ref.text
        run_ref = env.run_ref.text
        columns = columns_from_record(record, body)
        with self._lock:
            if self._writer is None:
                self._open_for_writes()
            if run_ref not in self._known_runs:
                self._require_run(run_ref)
            prior = self._pending_refs.get(ref) or self._existing(ref)
            if prior is not None:
                if prior[0] != body:
                    self._raise_conflict(ref, 0)
                receipt = self._receipt(record, prior[1], deduplicated=True)
                return AppendResult((receipt,), durability_status=self._status, durable_count=0)
            seq = self._write_spool_one(columns, body)
            full = len(self._pending) >= _INDEX_AT
            if full:
                # Indexed right here: handing single appends to the background
                # thread makes both fight over the GIL at every syscall.
                self._hand_off(wake=False)
        if full:
            self._drain_quietly()
        receipt = AppendReceipt(seq, 0, 0, ref, env.record_type, run_ref, self._status, False)
        return AppendResult((receipt,), durability_status=self._status, durable_count=1)

    def _raise_conflict(self, ref: str, index: int) -> None:
        msg = (
            f"record_ref {ref!r} already holds a different record; a record ref is bound to "
            "one content forever (append it under a new ref)"
        )
        raise RecordConflictError(
            msg, code="record_ref_conflict", details={"record_ref": ref, "index": index}
        )

    def _write_spool_one(self, columns: dict[str, Any], body: str) -> int:
        writer = self._writer
        assert writer is not None
        counter = self._counter
        counter.lock()
        try:
            seq = counter.read() + 1
            counter.write(seq, fsync=self._fsync)
            end = writer.write(f"S {seq} {body}\n".encode())
        finally:
            counter.unlock()
        if not self._pending:
            self._pending_since = time.monotonic()
        columns["seq"] = seq
        columns["appended_us"] = time.time_ns() // 1000
        self._pending.append((end, columns))
        self._pending_refs[columns["record_ref"]] = (body, seq)
        return seq

    def append_many(self, records: Iterable[Any]) -> AppendResult:
        """Validate every record, then append all of them as one atomic unit."""
        items = list(records)
        receipts = self._append_all(items)
        durable = sum(1 for r in receipts if not r.deduplicated)
        return AppendResult(tuple(receipts), durability_status=self._status, durable_count=durable)

    def _append_all(self, records: Sequence[Any]) -> list[AppendReceipt]:
        bodies = [self._validated_body(i, record, False) for i, record in enumerate(records)]
        envelopes = [record.envelope for record in records]
        refs = [str(env.record_ref) for env in envelopes]
        runs = [str(env.run_ref) for env in envelopes]
        with self._lock:
            self._open_for_writes()
            bad_runs = self._missing_runs(set(runs))
            known = self._existing_many(refs)
            fresh: list[int] = []  # indexes written now
            first_new: dict[str, int] = {}  # ref -> index of its first new occurrence
            repeats: dict[int, tuple[int, bool]] = {}  # index -> (sequence | first index, stored)
            rejections: list[dict[str, Any]] = []
            for index, ref in enumerate(refs):
                error = bad_runs.get(runs[index])
                if error is not None:
                    rejections.append(
                        {"index": index, "code": error.code, "message": error.message}
                    )
                    continue
                prior = known.get(ref)
                first = first_new.get(ref)
                if prior is None and first is None:
                    first_new[ref] = index
                    fresh.append(index)
                    continue
                if prior is not None:
                    body, repeat = prior[0], (prior[1], True)
                else:
                    assert first is not None
                    body, repeat = bodies[first], (first, False)
                if body != bodies[index]:
                    rejections.append(
                        {
                            "index": index,
                            "code": "record_ref_conflict",
                            "message": f"record_ref {ref!r} already holds a different record; a "
                            "record ref is bound to one content forever (append it under a new "
                            "ref)",
                        }
                    )
                    continue
                repeats[index] = repeat
            if rejections:
                head = rejections[0]
                msg = (
                    f"append_many rejected {len(rejections)} of {len(records)} records; nothing "
                    f"was written (first: index {head['index']}: {head['message']})"
                )
                raise ValidationError(
                    msg, code="record_append_invalid", details={"rejections": rejections}
                )
            sequences = self._write_spool(records, bodies, fresh) if fresh else []
            seq_of = dict(zip(fresh, sequences, strict=True))
            status = self._status
            receipts: list[AppendReceipt] = []
            for index, env in enumerate(envelopes):
                repeat = repeats.get(index)
                if repeat is None:
                    seq, deduplicated = seq_of[index], False
                else:
                    seq = repeat[0] if repeat[1] else seq_of[repeat[0]]
                    deduplicated = True
                receipts.append(
                    AppendReceipt(
                        seq, 0, 0, refs[index], env.record_type, runs[index], status, deduplicated
                    )
                )
            if len(self._pending) >= _INDEX_AT:
                self._hand_off()
            backlog = len(self._handed) > _MAX_HANDED
        if backlog:
            self._drain_quietly()
        return receipts

    def _missing_runs(self, runs: set[str]) -> dict[str, ContextaError]:
        """The error for each run of a batch that does not exist (usually none)."""
        missing: dict[str, ContextaError] = {}
        for run_ref in runs - self._known_runs:
            try:
                self._require_run(run_ref)
            except ContextaError as error:
                missing[run_ref] = error
        return missing

    def _validated_body(self, index: int, record: Any, single: bool) -> str:
        if type(record) not in RECORD_CLASSES:
            where = "record" if single else f"records[{index}]"
            msg = (
                f"{where}: expected a StructuredEventRecord, MetricRecord, TraceSpanRecord or "
                f"DegradedRecord, got {type(record).__name__} {truncate_value(record, 80)}"
            )
            raise ValidationError(
                msg,
                code="record_append_invalid",
                details={
                    "field": where,
                    "value": truncate_value(record),
                    "allowed": "a record model",
                },
            )
        return to_json(record)

    def _receipt(self, record: Any, seq: int, *, deduplicated: bool) -> AppendReceipt:
        env = record.envelope
        return AppendReceipt(
            sequence=seq,
            segment_id=0,
            offset=0,
            record_ref=str(env.record_ref),
            record_type=env.record_type,
            run_ref=str(env.run_ref),
            durability_status=self._status,
            deduplicated=deduplicated,
        )

    def _require_run(self, run_ref: str) -> None:
        if self.detached or run_ref in self._known_runs:
            return
        stmt = self._db.hot_statement(
            "run_exists", lambda: select(schema.runs.c.ref).where(schema.runs.c.ref == _bind("ref"))
        )
        if self._db.hot_query(stmt, (run_ref,)):
            self._known_runs.add(run_ref)
            return
        msg = f"record run_ref {run_ref!r} does not exist; put the run before appending its records"
        raise RecordNotFoundError(
            msg,
            code="record_run_not_found",
            details={"field": "envelope.run_ref", "value": run_ref},
        )

    def _existing(self, ref: str) -> tuple[str, int] | None:
        pending = self._pending_refs.get(ref)
        if pending is not None:
            return pending
        stmt = self._db.hot_statement(
            "record_by_ref",
            lambda: select(schema.records.c.body, schema.records.c.seq).where(
                schema.records.c.record_ref == _bind("ref")
            ),
        )
        rows = self._db.hot_query(stmt, (ref,))
        return (rows[0][0], int(rows[0][1])) if rows else None

    def _existing_many(self, refs: Sequence[str]) -> dict[str, tuple[str, int]]:
        """Stored or pending (body, sequence) for the refs of a batch, one query per 500."""
        found: dict[str, tuple[str, int]] = {}
        missing: list[str] = []
        pending = self._pending_refs
        for ref in refs:
            prior = pending.get(ref)
            if prior is None:
                missing.append(ref)
            else:
                found[ref] = prior
        if not missing:
            return found
        stmt = self._db.hot_statement("records_by_refs", _refs_statement)
        for start in range(0, len(missing), _LOOKUP):
            chunk = missing[start : start + _LOOKUP]
            chunk += [chunk[0]] * (_LOOKUP - len(chunk))  # one compiled statement for all sizes
            params = tuple(chunk) if stmt.positional else dict(zip(stmt.names, chunk, strict=True))
            for ref, body, seq in self._db.hot_query(stmt, params):
                found[ref] = (body, int(seq))
        return found

    def _write_spool(
        self, records: Sequence[Any], bodies: Sequence[str], indexes: Sequence[int]
    ) -> list[int]:
        """Write ``records[i]`` for ``i`` in ``indexes`` as one spool entry; return sequences."""
        writer = self._writer
        assert writer is not None
        count = len(indexes)
        self._counter.lock()
        try:
            first = self._counter.read() + 1
            lines = [f"S {first + n} {bodies[i]}\n" for n, i in enumerate(indexes)]
            if count > 1:
                lines.insert(0, f"B {count}\n")
            # Counter first: a failed spool write then leaves a gap, never a reused number.
            self._counter.write(first + count - 1, fsync=self._fsync)
            end = writer.write("".join(lines).encode("utf-8"))
        finally:
            self._counter.unlock()
        if not self._pending:
            self._pending_since = time.monotonic()
        now_us = time.time_ns() // 1000
        pending = self._pending
        pending_refs = self._pending_refs
        for n, i in enumerate(indexes):
            body = bodies[i]
            columns = columns_from_record(records[i], body)
            columns["seq"] = first + n
            columns["appended_us"] = now_us
            pending.append((end, columns))
            pending_refs[columns["record_ref"]] = (body, first + n)
        return list(range(first, first + count))

    # -- indexing ----------------------------------------------------------------
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
                with self._db.write("indexing appended records") as conn:
                    done = indexer.read_progress(conn, writer.name)
                    rows = [columns for end, columns in batch if end > done]
                    if rows:
                        indexer.insert_rows(self._db, conn, rows)
                    indexer.write_progress(conn, writer.name, batch[-1][0])
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

    def _index_if_due(self, age_s: float) -> None:
        """Background step: hand off records older than ``age_s`` and index what is queued."""
        if self._pending and self._lock.acquire(blocking=False):
            try:
                if self._pending and time.monotonic() - self._pending_since >= age_s:
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
        """Before a read: make this process's appends and dead writers' spools visible."""
        with self._lock:
            self._hand_off()
        self._drain_quietly()
        with self._lock:
            try:
                self._recover_orphans()
            except ContextaError:
                _log.warning("recovering records of a dead writer failed", exc_info=True)

    # -- reads ------------------------------------------------------------------
    def _filters(self, scan_filter: ScanFilter | None) -> list[Any]:
        t = schema.records
        where: list[Any] = []
        if scan_filter is None:
            return where
        if not isinstance(scan_filter, ScanFilter):
            msg = f"scan_filter: expected a ScanFilter or None, got {truncate_value(scan_filter)}"
            raise ValidationError(
                msg, code="record_invalid_filter", details={"field": "scan_filter"}
            )
        for attr, column, kind in (
            ("run_ref", t.c.run_ref, "run"),
            ("stage_execution_ref", t.c.stage_ref, "stage"),
            ("batch_execution_ref", t.c.batch_ref, "batch"),
            ("sample_observation_ref", t.c.sample_ref, "sample"),
        ):
            value = getattr(scan_filter, attr)
            if value is not None:
                where.append(column == coerce_ref(value, kind, f"scan_filter.{attr}"))
        if scan_filter.record_type is not None:
            if scan_filter.record_type not in ("event", "metric", "span", "degraded"):
                msg = (
                    f"scan_filter.record_type: {scan_filter.record_type!r} is not one of "
                    "event, metric, span, degraded"
                )
                raise ValidationError(
                    msg, code="record_invalid_filter", details={"field": "record_type"}
                )
            where.append(t.c.record_type == scan_filter.record_type)
        for attr, op in (("start_time", "ge"), ("end_time", "le")):
            value = getattr(scan_filter, attr)
            if value is not None:
                micros = timestamp_to_micros(
                    normalize_timestamp(value, field=f"scan_filter.{attr}")
                )
                where.append(t.c.recorded_us >= micros if op == "ge" else t.c.recorded_us <= micros)
        return where

    def _iter_columns(self, where: list[Any], names: Sequence[str]) -> Iterator[Any]:
        """Rows as tuples in ``names`` order (``seq`` first), one read per page.

        Each page is compiled by SQLAlchemy but run on the driver cursor:
        snapshots read 100,000s of rows and SQLAlchemy rows cost µs each.
        """
        t = schema.records
        cols = [t.c[name] for name in names]
        dialect = self._db.engine.dialect
        last = 0
        while True:
            stmt = select(*cols).where(t.c.seq > last, *where).order_by(t.c.seq).limit(_PAGE)
            compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            values = compiled.params
            order = compiled.positiontup
            params = values if order is None else tuple(values[name] for name in order)
            with self._db.read() as conn:
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                try:
                    cursor.execute(str(compiled), params)
                    page = cursor.fetchall()
                finally:
                    cursor.close()
            yield from page
            if len(page) < _PAGE:
                return
            last = page[-1][0]

    def _merged(self, where: list[Any], columns: Sequence[str], matches: Any) -> Iterator[Any]:
        """DB rows plus (when indexing is failing) pending rows, in sequence order.

        Rows are tuples in ``columns`` order followed by ``appended_us``.
        """
        self._sync()
        names = (*columns, "appended_us")
        stored = self._iter_columns(where, names)
        with self._lock:
            waiting = [*(row for _, batch in self._handed for row in batch), *self._pending]
            pending = [c for _, c in waiting if matches(c)]
        if not pending:
            yield from stored
            return
        as_tuple = operator.itemgetter(*names)
        rows = [as_tuple(c) for c in pending]
        yield from heapq.merge(stored, rows, key=operator.itemgetter(0))

    def scan(self, scan_filter: ScanFilter | None = None) -> Iterator[StoredRecord]:
        """Stream stored records matching the filter, in sequence order."""
        where = self._filters(scan_filter)
        matches = _pending_matcher(scan_filter)
        for seq, body, appended_us in self._merged(where, ("seq", "body"), matches):
            try:
                record = record_from_json(body)
            except ContextaError:
                continue  # reported by check_integrity
            yield StoredRecord(seq, 0, 0, _canonical_from_us(appended_us), record)

    def iter_rows(
        self,
        *,
        run_refs: Sequence[str] | None = None,
        record_type: str | None = None,
        metric_key: str | None = None,
        stage_ref: str | None = None,
    ) -> Iterator[RecordRow]:
        """Hot-column rows (no model validation) for the interpretation layer."""
        t = schema.records
        where: list[Any] = []
        if run_refs is not None:
            refs = [str(r) for r in run_refs]
            if not refs:
                return
            where.append(t.c.run_ref.in_(refs) if len(refs) > 1 else t.c.run_ref == refs[0])
        if record_type is not None:
            where.append(t.c.record_type == record_type)
        if metric_key is not None:
            where.append(t.c.key == metric_key)
        if stage_ref is not None:
            where.append(t.c.stage_ref == str(stage_ref))
        run_set = None if run_refs is None else {str(r) for r in run_refs}

        def matches(c: Any) -> bool:
            return (
                (run_set is None or c["run_ref"] in run_set)
                and (record_type is None or c["record_type"] == record_type)
                and (metric_key is None or c["key"] == metric_key)
                and (stage_ref is None or c["stage_ref"] == str(stage_ref))
            )

        for row in self._merged(where, _ROW_COLUMNS, matches):
            yield _row_from_tuple(row)

    def latest_metric_values(self, run_refs: Sequence[str]) -> list[MetricValueRow]:
        """The latest value per (run, stage, key) for the given runs, in one query."""
        refs = [str(r) for r in run_refs]
        if not refs:
            return []
        self._sync()
        t = schema.records
        rank = (
            func.row_number()
            .over(
                partition_by=(t.c.run_ref, t.c.stage_ref, t.c.key),
                order_by=(t.c.observed_us.desc(), t.c.seq.desc()),
            )
            .label("rank")
        )
        inner = (
            select(
                t.c.run_ref,
                t.c.stage_ref,
                t.c.key,
                t.c.value_int,
                t.c.value_real,
                t.c.value_text,
                t.c.observed_at,
                t.c.seq,
                t.c.tags,
                rank,
            )
            .where(t.c.record_type == "metric", t.c.run_ref.in_(refs))
            .subquery()
        )
        stmt = select(inner).where(inner.c.rank == 1).order_by(inner.c.seq)
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        return [
            MetricValueRow(r[0], r[1], r[2], decode_value(r[3], r[4], r[5]), r[6], r[7], r[8])
            for r in rows
        ]

    def count_records(self, run_ref: object = None) -> int:
        self._sync()
        t = schema.records
        stmt = select(func.count()).select_from(t)
        if run_ref is not None:
            stmt = stmt.where(t.c.run_ref == coerce_ref(run_ref, "run", "run_ref"))
        with self._db.read() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def data_version(self) -> int:
        self._sync()
        return self._db.data_version()

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


def _refs_statement() -> Any:
    t = schema.records
    params = [_bind(f"r{i}") for i in range(_LOOKUP)]
    return select(t.c.record_ref, t.c.body, t.c.seq).where(t.c.record_ref.in_(params))


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _pending_matcher(scan_filter: ScanFilter | None) -> Any:
    if scan_filter is None:
        return lambda c: True
    wanted = {
        "run_ref": scan_filter.run_ref,
        "stage_ref": scan_filter.stage_execution_ref,
        "batch_ref": scan_filter.batch_execution_ref,
        "sample_ref": scan_filter.sample_observation_ref,
        "record_type": scan_filter.record_type,
    }
    wanted = {k: str(v) for k, v in wanted.items() if v is not None}
    return lambda c: all(c[k] == v for k, v in wanted.items())
