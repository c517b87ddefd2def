"""The read path of ``RecordStore``: filtered scans and hot-column rows.

Every read first makes this process's appends visible (``_sync``), then reads
the database in sequence order. Records whose indexing is failing stay in
memory and are merged in by sequence, so a read never misses an acknowledged
append of this process.
"""

from __future__ import annotations

import heapq
import operator
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from contexta.contract.timestamps import normalize_timestamp, timestamp_to_micros
from contexta.errors import ContextaError, ValidationError, truncate_value
from contexta.store.metadata.repository import coerce_ref
from contexta.store.records.codec import record_from_json
from contexta.store.records.models import ScanFilter, StoredRecord
from contexta.store.records.rows import MetricValueRow, RecordRow, decode_value
from contexta.store.sql import schema

if TYPE_CHECKING:
    from contexta.store.records.appends import Pending
    from contexta.store.records.spool import SpoolWriter
    from contexta.store.sql.engine import Database

__all__ = ["ReadPath", "run_conditions"]

_PAGE = 1000
_RECORD_TYPES = ("event", "metric", "span", "degraded")

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
    return datetime.fromtimestamp(us / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_conditions(run_refs: Sequence[str]) -> list[Any]:
    """WHERE terms selecting the records of ``run_refs`` (at least one ref)."""
    t = schema.records
    return [t.c.run_ref.in_(run_refs) if len(run_refs) > 1 else t.c.run_ref == run_refs[0]]


class ReadPath:
    """``scan``, ``iter_rows`` and counts (mixed into ``RecordStore``)."""

    _db: Database
    _lock: threading.RLock
    _pending: Pending
    _handed: deque[tuple[SpoolWriter, Pending]]

    if TYPE_CHECKING:  # provided by the pipeline part of ``RecordStore``

        def _sync(self) -> None: ...

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
            if scan_filter.record_type not in _RECORD_TYPES:
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

    def _run_select(self, stmt: Any) -> list[Any]:
        """Compile ``stmt`` with SQLAlchemy but run it on the driver cursor.

        Snapshots read 100,000s of rows and SQLAlchemy rows cost µs each.
        """
        compiled = stmt.compile(
            dialect=self._db.read_dialect, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.params
        order = compiled.positiontup
        params = values if order is None else tuple(values[name] for name in order)
        with self._db.read() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(str(compiled), params)
                rows: list[Any] = cursor.fetchall()
            finally:
                cursor.close()
        return rows

    def _iter_columns(self, where: list[Any], names: Sequence[str]) -> Iterator[Any]:
        """Rows as tuples in ``names`` order (``seq`` first), one read per page."""
        t = schema.records
        cols = [t.c[name] for name in names]
        last = 0
        while True:
            stmt = select(*cols).where(t.c.seq > last, *where).order_by(t.c.seq).limit(_PAGE)
            page = self._run_select(stmt)
            yield from page
            if len(page) < _PAGE:
                return
            last = page[-1][0]

    def _waiting_columns(self, matches: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Columns of appended records not yet in the database that ``matches`` accepts."""
        with self._lock:
            waiting = [*(row for _, batch in self._handed for row in batch), *self._pending]
            return [c for _, c in waiting if matches(c)]

    def _merged(self, where: list[Any], columns: Sequence[str], matches: Any) -> Iterator[Any]:
        """DB rows plus (when indexing is failing) pending rows, in sequence order.

        Rows are tuples in ``columns`` order followed by ``appended_us``.
        """
        self._sync()
        names = (*columns, "appended_us")
        stored = self._iter_columns(where, names)
        pending = self._waiting_columns(matches)
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
            where += run_conditions(refs)
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
