"""``RecordStore``: durable, concurrent, fast appends and indexed reads.

Appends go to this process's spool (``spool.py``) and are acknowledged once the
bytes are in the kernel; ``indexer.py`` moves them into the database in batches
(at 1,000 pending records, every 0.2 s in the background, before any read in
this process, and at close or exit). Opening a workspace indexes spools left by
dead processes. See contract.md §4.4 and architecture.md §3.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
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
_ROTATE_BYTES = 64 * 1024 * 1024
_PAGE = 1000
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


def _row_from_columns(c: Any) -> RecordRow:
    return RecordRow(
        c["seq"],
        c["record_ref"],
        c["record_type"],
        c["run_ref"],
        c["stage_ref"],
        c["batch_ref"],
        c["sample_ref"],
        c["operation_ref"],
        c["deployment_ref"],
        c["key"],
        decode_value(c["value_int"], c["value_real"], c["value_text"]),
        c["step"],
        c["observed_at"],
        c["recorded_at"],
        c["completeness"],
        c["degradation"],
        c["producer"],
        c["severity"],
        c["body"],
    )


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
        self._pending: list[tuple[int, dict[str, Any]]] = []
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
            self._index_pending()

    def close(self) -> None:
        """Index pending records, remove our spool, release connections. Idempotent."""
        with self._lock:
            if self._pending:
                try:
                    self._index_pending()
                except ContextaError:
                    # The spool still holds them; the next open indexes them.
                    _log.warning(
                        "records left in the spool at close; they are indexed on next open"
                    )
            if self._writer is not None:
                self._writer.close(remove=not self._pending)
                if not self._pending:
                    self._forget_progress(self._writer.name)
                self._writer = None
            self._pending = []
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
        if self._writer is not None:
            import os

            os.close(self._writer.fd)
        self._writer = None
        self._pending = []
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
            if len(self._pending) >= _INDEX_AT:
                self._index_pending_quietly()
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
        receipts = self._append_all(items, single=False)
        durable = sum(1 for r in receipts if not r.deduplicated)
        return AppendResult(tuple(receipts), durability_status=self._status, durable_count=durable)

    def _append_all(self, records: Sequence[Any], *, single: bool) -> list[AppendReceipt]:
        bodies = [self._validated_body(i, record, single) for i, record in enumerate(records)]
        with self._lock:
            self._open_for_writes()
            stored = None if single else self._existing_many(records)
            plan: list[tuple[int, Any, str] | AppendReceipt] = []
            rejections: list[dict[str, Any]] = []
            batch_refs: dict[str, tuple[str, int]] = {}
            for index, (record, body) in enumerate(zip(records, bodies, strict=True)):
                ref = str(record.envelope.record_ref)
                try:
                    self._require_run(str(record.envelope.run_ref))
                    prior = batch_refs.get(ref) or (
                        self._existing(ref) if stored is None else stored.get(ref)
                    )
                    if prior is None:
                        batch_refs[ref] = (body, -1 - index)
                        plan.append((index, record, body))
                        continue
                    if prior[0] != body:
                        msg = (
                            f"record_ref {ref!r} already holds a different record; a record ref "
                            "is bound to one content forever (append it under a new ref)"
                        )
                        raise RecordConflictError(
                            msg,
                            code="record_ref_conflict",
                            details={"record_ref": ref, "index": index},
                        )
                    plan.append(self._receipt(record, prior[1], deduplicated=True))
                except ContextaError as error:
                    if single:
                        raise
                    rejections.append(
                        {"index": index, "code": error.code, "message": error.message}
                    )
            if rejections:
                first = rejections[0]
                msg = (
                    f"append_many rejected {len(rejections)} of {len(records)} records; nothing "
                    "was "
                    f"written (first: index {first['index']}: {first['message']})"
                )
                raise ValidationError(
                    msg, code="record_append_invalid", details={"rejections": rejections}
                )
            new = [item for item in plan if not isinstance(item, AppendReceipt)]
            sequences = (
                self._write_spool([(record, body) for _, record, body in new]) if new else []
            )
            seq_by_index = {item[0]: seq for item, seq in zip(new, sequences, strict=True)}
            receipts: list[AppendReceipt] = []
            for item in plan:
                if isinstance(item, AppendReceipt):
                    receipts.append(item)
                    continue
                index, record, body = item
                prior = batch_refs[str(record.envelope.record_ref)]
                seq = seq_by_index.get(index)
                if seq is None:  # a duplicate inside the same batch
                    seq = seq_by_index[-1 - prior[1]]
                    receipts.append(self._receipt(record, seq, deduplicated=True))
                else:
                    receipts.append(self._receipt(record, seq, deduplicated=False))
            if len(self._pending) >= _INDEX_AT:
                self._index_pending_quietly()
        return receipts

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

    def _existing_many(self, records: Sequence[Any]) -> dict[str, tuple[str, int]]:
        """Stored or pending (body, sequence) for the refs of a batch, one query per 500."""
        found: dict[str, tuple[str, int]] = {}
        missing: list[str] = []
        for record in records:
            ref = str(record.envelope.record_ref)
            pending = self._pending_refs.get(ref)
            if pending is not None:
                found[ref] = pending
            else:
                missing.append(ref)
        t = schema.records
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            with self._db.read() as conn:
                for ref, body, seq in conn.execute(
                    select(t.c.record_ref, t.c.body, t.c.seq).where(t.c.record_ref.in_(chunk))
                ):
                    found[ref] = (body, int(seq))
        return found

    def _write_spool(self, items: Sequence[tuple[Any, str]]) -> list[int]:
        writer = self._writer
        assert writer is not None
        now_us = time.time_ns() // 1000
        self._counter.lock()
        try:
            first = self._counter.read() + 1
            sequences = list(range(first, first + len(items)))
            lines = [f"S {seq} {body}\n" for seq, (_, body) in zip(sequences, items, strict=True)]
            if len(items) > 1:
                lines.insert(0, f"B {len(items)}\n")
            # Counter first: a failed spool write then leaves a gap, never a reused number.
            self._counter.write(sequences[-1], fsync=self._fsync)
            end = writer.write("".join(lines).encode("utf-8"))
        finally:
            self._counter.unlock()
        if not self._pending:
            self._pending_since = time.monotonic()
        for seq, (record, body) in zip(sequences, items, strict=True):
            columns = columns_from_record(record, body)
            columns["seq"] = seq
            columns["appended_us"] = now_us
            self._pending.append((end, columns))
            self._pending_refs[columns["record_ref"]] = (body, seq)
        return sequences

    # -- indexing ----------------------------------------------------------------
    def _index_pending(self) -> None:
        if not self._pending or self._writer is None:
            return
        name = self._writer.name
        pending = self._pending
        with self._db.write("indexing appended records") as conn:
            done = indexer.read_progress(conn, name)
            rows = [columns for end, columns in pending if end > done]
            if rows:
                indexer.insert_rows(self._db, conn, rows)
            indexer.write_progress(conn, name, pending[-1][0])
        self._pending = []
        self._pending_refs = {}
        if self._writer.size > _ROTATE_BYTES:
            self._writer.close(remove=True)
            self._forget_progress(name)
            self._writer = None

    def _index_pending_quietly(self) -> None:
        try:
            self._index_pending()
        except ContextaError:
            _log.warning("indexing records failed; they stay safe in the spool", exc_info=True)

    def _index_if_due(self, age_s: float) -> None:
        if not self._pending or not self._lock.acquire(blocking=False):
            return
        try:
            if self._pending and time.monotonic() - self._pending_since >= age_s:
                self._index_pending_quietly()
        finally:
            self._lock.release()

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
            if self._pending:
                self._index_pending_quietly()
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

    def _iter_columns(self, where: list[Any], columns: Sequence[str]) -> Iterator[Any]:
        t = schema.records
        cols = [t.c[name] for name in columns]
        if "appended_us" not in columns:
            cols.append(t.c.appended_us)
        last = 0
        while True:
            stmt = select(*cols).where(t.c.seq > last, *where).order_by(t.c.seq).limit(_PAGE)
            with self._db.read() as conn:
                page = conn.execute(stmt).mappings().all()
            yield from page
            if len(page) < _PAGE:
                return
            last = page[-1]["seq"]

    def _merged(self, where: list[Any], columns: Sequence[str], matches: Any) -> Iterator[Any]:
        """DB rows plus (when indexing is failing) pending rows, in sequence order."""
        self._sync()
        stored = self._iter_columns(where, columns)
        with self._lock:
            pending = [c for _, c in self._pending if matches(c)]
        if not pending:
            yield from stored
            return
        yield from heapq.merge(stored, pending, key=lambda c: c["seq"])

    def scan(self, scan_filter: ScanFilter | None = None) -> Iterator[StoredRecord]:
        """Stream stored records matching the filter, in sequence order."""
        where = self._filters(scan_filter)
        matches = _pending_matcher(scan_filter)
        for c in self._merged(where, ("seq", "body"), matches):
            try:
                record = record_from_json(c["body"])
            except ContextaError:
                continue  # reported by check_integrity
            yield StoredRecord(c["seq"], 0, 0, _canonical_from_us(c["appended_us"]), record)

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

        for c in self._merged(where, _ROW_COLUMNS, matches):
            yield _row_from_columns(c)

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
