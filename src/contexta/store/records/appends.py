"""The append path of ``RecordStore``: validate, deduplicate, write the spool.

An append is acknowledged once its spool line is in the kernel (see
``spool.py``); the columns extracted here wait in ``_pending`` until the
indexing pipeline (``pipeline.py``) moves them into the database. Refs are
checked against pending and stored records so that an identical re-append is a
no-op and a different one a conflict (contract.md §4.4).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from contexta.contract import to_json
from contexta.errors import ContextaError, ValidationError, truncate_value
from contexta.store.records.batch_classify import classify as _classify
from contexta.store.records.codec import RECORD_CLASSES
from contexta.store.records.errors import RecordConflictError, RecordNotFoundError
from contexta.store.records.models import AppendReceipt, AppendResult, DurabilityStatus
from contexta.store.records.rows import columns_from_record
from contexta.store.sql import schema

if TYPE_CHECKING:
    from contexta.store.records.spool import SequenceCounter, SpoolWriter
    from contexta.store.sql.engine import Database

__all__ = ["AppendPath"]

INDEX_AT = 1000
MAX_HANDED = 2
_LOOKUP = 500

Pending = list[tuple[int, dict[str, Any]]]


class AppendPath:
    """``append``/``append_many`` and the ref checks they need (mixed into ``RecordStore``)."""

    _db: Database
    _lock: threading.RLock
    _status: DurabilityStatus
    _fsync: bool
    _writer: SpoolWriter | None
    _counter: SequenceCounter
    _pending: Pending
    _handed: deque[tuple[SpoolWriter, Pending]]
    _pending_refs: dict[str, tuple[str, int]]
    _pending_since: float
    _last_append: float
    _known_runs: set[str]
    detached: bool

    if TYPE_CHECKING:  # provided by the lifecycle and pipeline parts of ``RecordStore``

        def _open_for_writes(self) -> None: ...
        def _hand_off(self, *, wake: bool = True) -> None: ...
        def _drain_quietly(self, *, blocking: bool = True) -> None: ...

    def append(self, record: Any) -> AppendResult:
        """Append one record durably; an identical re-append is a no-op."""
        return self._append_one(record, minted=False)

    def append_minted(self, record: Any, body: str | None = None) -> AppendResult:
        """``append`` for a record whose ref the caller has just minted (capture).

        Capture's record ids are unique within a run by construction, so the lookup
        of an earlier record under the same ref (a database query per call) is
        skipped; should two processes ever mint the same ref, the indexer keeps the
        second body aside as a ``record_ref_conflict`` anomaly instead of losing it.
        """
        return self._append_one(record, minted=True, body=body)

    def _append_one(self, record: Any, *, minted: bool, body: str | None = None) -> AppendResult:
        if type(record) not in RECORD_CLASSES:
            self._validated_body(0, record, True)
        if body is None:
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
            prior = None if minted else self._pending_refs.get(ref) or self._existing(ref)
            if prior is not None:
                if prior[0] != body:
                    self._raise_conflict(ref, 0)
                receipt = self._receipt(record, prior[1], deduplicated=True)
                return AppendResult((receipt,), durability_status=self._status, durable_count=0)
            seq = self._write_spool_one(columns, body)
            full = len(self._pending) >= INDEX_AT
            if full:
                self._hand_off()
        if full:
            self._drain_if_behind()
        receipt = AppendReceipt(seq, 0, 0, ref, env.record_type, run_ref, self._status, False)
        return AppendResult((receipt,), durability_status=self._status, durable_count=1)

    def append_many(self, records: Iterable[Any]) -> AppendResult:
        """Validate every record, then append all of them as one atomic unit."""
        try:
            iterator = iter(records)
        except TypeError as error:
            msg = (
                "records: expected an iterable of StructuredEventRecord, MetricRecord, "
                f"TraceSpanRecord or DegradedRecord, got {type(records).__name__} "
                f"{truncate_value(records, 80)}"
            )
            raise ValidationError(
                msg,
                code="record_append_invalid",
                details={
                    "field": "records",
                    "value": truncate_value(records),
                    "allowed": "an iterable of record models",
                },
                cause=error,
            ) from error
        items = list(iterator)
        receipts = self._append_all(items, minted=False)
        durable = sum(1 for r in receipts if not r.deduplicated)
        return AppendResult(tuple(receipts), durability_status=self._status, durable_count=durable)

    def append_many_minted(self, records: Sequence[Any],
                           bodies: Sequence[str] | None = None) -> int:
        """``append_many`` for records whose refs the caller has just minted (see
        ``append_minted``); returns how many were written.

        ``bodies``, when given, are the records' ``to_json`` texts, already made by the
        caller. Capture ignores receipts, so none are built; a batch repeating a ref or
        naming an unknown run takes the general path (deduplication, rejections).
        """
        refs = {record.envelope.record_ref._text for record in records}
        runs = {record.envelope.run_ref._text for record in records}
        if len(refs) == len(records) and runs <= self._known_runs:
            if bodies is None or len(bodies) != len(records):
                bodies = [self._validated_body(i, record, False)
                          for i, record in enumerate(records)]
            with self._lock:
                if self._writer is None:
                    self._open_for_writes()
                if records:
                    self._write_spool(records, bodies, range(len(records)))
                full = len(self._pending) >= INDEX_AT
                if full:
                    self._hand_off()
            if full:
                self._drain_if_behind()
            return len(records)
        receipts = self._append_all(list(records), minted=True)
        return sum(1 for r in receipts if not r.deduplicated)

    def _raise_conflict(self, ref: str, index: int) -> None:
        msg = (
            f"record_ref {ref!r} already holds a different record; a record ref is bound to "
            "one content forever (append it under a new ref)"
        )
        raise RecordConflictError(
            msg, code="record_ref_conflict", details={"record_ref": ref, "index": index}
        )

    def _append_all(self, records: Sequence[Any], *, minted: bool) -> list[AppendReceipt]:
        bodies = [self._validated_body(i, record, False) for i, record in enumerate(records)]
        envelopes = [record.envelope for record in records]
        refs = [str(env.record_ref) for env in envelopes]
        runs = [str(env.run_ref) for env in envelopes]
        with self._lock:
            self._open_for_writes()
            bad_runs = self._missing_runs(set(runs))
            known = {} if minted else self._existing_many(refs)
            fresh, repeats, rejections = _classify(refs, runs, bodies, bad_runs, known)
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
            full = len(self._pending) >= INDEX_AT
            if full:
                self._hand_off()
        if full:
            self._drain_if_behind()
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
            "run_exists",
            lambda: select(schema.runs.c.ref).where(schema.runs.c.ref == bindparam("ref")),
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
                schema.records.c.record_ref == bindparam("ref")
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
        now = time.monotonic()
        if not self._pending:
            self._pending_since = now
        self._last_append = now
        columns["seq"] = seq
        columns["appended_us"] = time.time_ns() // 1000
        self._pending.append((end, columns))
        self._pending_refs[columns["record_ref"]] = (body, seq)
        return seq

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
        now = time.monotonic()
        if not self._pending:
            self._pending_since = now
        self._last_append = now
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


def _refs_statement() -> Any:
    t = schema.records
    params = [bindparam(f"r{i}") for i in range(_LOOKUP)]
    return select(t.c.record_ref, t.c.body, t.c.seq).where(t.c.record_ref.in_(params))
