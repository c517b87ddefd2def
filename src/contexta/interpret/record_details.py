"""What snapshots read of their records only when it is used: some columns and the JSON.

A snapshot fetches, for every record, only the columns it needs itself (a ``HotRow``): at
100,000 records every further column costs tens of milliseconds (issue 3). The rest of a
record (``recorded_at``, the markers, ``producer_ref``, ``severity``) and its canonical JSON
are loaded by one ``RecordDetails`` shared by every record of a fetch (a read-ahead window of
runs) when first read: the whole window in one query when it is small (the usual run-list
loop), otherwise ``_CHUNK`` consecutive records of one run, keeping the last few chunks.
Records are immutable once stored (a ref is bound to one content forever), so what is read
later is what the snapshot saw.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from contexta.errors import StoreAccessError
from contexta.interpret.frozen_map import EMPTY_MAP, freeze_mapping
from contexta.interpret.read_models import JSON_OBSERVATION_FIELDS

if TYPE_CHECKING:
    from contexta.interpret.read_models import ObservationRecord

__all__ = [
    "DetailSource",
    "HotRow",
    "RecordDetails",
    "SnapshotRow",
    "json_fields",
    "json_value",
    "snapshot_rows",
]

#: A record's columns in ``contexta.store.records.rows.HOT_COLUMNS`` order: sequence, ref,
#: type, stage, batch, sample, operation, deployment, key, value (int, real, text), step,
#: observed_at; further items, if any, are ignored.
HotRow = tuple[Any, ...]
#: ``DETAIL_COLUMNS`` of the store: recorded_at, completeness, degradation, producer,
#: severity; then the canonical JSON when it was asked for.
Detail = tuple[Any, ...]

_COLUMN_FIELDS = ("recorded_at", "completeness_marker", "degradation_marker", "producer_ref")
_BODY = 5
_WHOLE = 20_000  # a window of at most this many records is loaded in one query
_CHUNK = 2_000
_KEEP_CHUNKS = 8
_ALL = ("", -1)
_NON_FINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class DetailSource(Protocol):
    """Where details are loaded from (``RecordStore`` implements it)."""

    def record_details(
        self, run_refs: Sequence[str], first_seq: int, last_seq: int, *, with_body: bool
    ) -> Mapping[str, Detail]: ...

    def record_details_by_ref(
        self, record_refs: Sequence[str], *, with_body: bool
    ) -> Mapping[str, Detail]: ...


class RecordDetails:
    """Details of the records of one fetch, by record ref; also the records' lazy loader.

    ``known`` details (with body) are served without loading, e.g. from a repository whose
    rows carried everything anyway.
    """

    def __init__(
        self,
        rows_by_run: Mapping[str, Sequence[HotRow]],
        *,
        source: DetailSource | None = None,
        known: Mapping[str, Detail] | None = None,
    ) -> None:
        self._rows = rows_by_run
        self._source = source
        self._known: Mapping[str, Detail] = known or {}
        # chunk -> (holds bodies, {ref: detail})
        self._chunks: OrderedDict[tuple[str, int], tuple[bool, Mapping[str, Detail]]] = (
            OrderedDict()
        )
        self._where: dict[str, tuple[str, int]] | None = None
        self._whole = sum(len(rows) for rows in rows_by_run.values()) <= _WHOLE
        self._lock = threading.Lock()

    def __call__(self, record: ObservationRecord, name: str) -> dict[str, Any]:
        """The lazy fields of ``record`` in ``name``'s group (``ObservationRecord``'s loader)."""
        if name in JSON_OBSERVATION_FIELDS:
            return json_fields(record.record_type, self.detail(record.record_id, True)[_BODY])
        return dict(zip(_COLUMN_FIELDS, self.detail(record.record_id, False), strict=False))

    def detail(self, record_ref: str, with_body: bool) -> Detail:
        """One record's details (with its canonical JSON when ``with_body``)."""
        found = self._known.get(record_ref)
        if found is not None:
            return found
        with self._lock:
            chunk = self._chunk_of(record_ref)
            if chunk is not None:
                found = self._load(chunk, with_body).get(record_ref)
            if found is None:
                found = self._by_ref([record_ref], with_body).get(record_ref)
        if found is None:
            raise _gone(record_ref)
        return found

    def details_of_run(self, rows: Sequence[HotRow]) -> list[Detail]:
        """Details with bodies of ``rows`` (one run's rows of this fetch), in their order."""
        known = self._known
        out: list[Detail | None] = [known.get(row[1]) for row in rows]
        if None not in out:
            return out  # type: ignore[return-value]
        with self._lock:
            chunks: dict[tuple[str, int], Mapping[str, Detail]] = {}
            for index, row in enumerate(rows):
                if out[index] is None:
                    chunk = self._chunk_of(row[1])
                    if chunk is not None:
                        loaded = chunks.get(chunk)
                        if loaded is None:
                            loaded = chunks[chunk] = self._load(chunk, True)
                        out[index] = loaded.get(row[1])
            lost = [row[1] for detail, row in zip(out, rows, strict=True) if detail is None]
            found = self._by_ref(lost, True)
        for index, row in enumerate(rows):
            if out[index] is None:
                out[index] = found.get(row[1])
                if out[index] is None:
                    raise _gone(row[1])
        return out  # type: ignore[return-value]

    # -- loading; the caller holds ``_lock`` --------------------------------------------------

    def _chunk_of(self, record_ref: str) -> tuple[str, int] | None:
        if self._source is None:
            return None
        if self._whole:
            return _ALL
        if self._where is None:
            self._where = {
                row[1]: (run_ref, index // _CHUNK)
                for run_ref, rows in self._rows.items()
                for index, row in enumerate(rows)
            }
        return self._where.get(record_ref)

    def _load(self, chunk: tuple[str, int], with_body: bool) -> Mapping[str, Detail]:
        held = self._chunks.get(chunk)
        if held is not None and (held[0] or not with_body):
            self._chunks.move_to_end(chunk)
            return held[1]
        assert self._source is not None
        if chunk == _ALL:
            runs = [run_ref for run_ref, rows in self._rows.items() if rows]
            part = [row for run_ref in runs for row in self._rows[run_ref]]
        else:
            runs = [chunk[0]]
            part = list(self._rows[chunk[0]][chunk[1] * _CHUNK : (chunk[1] + 1) * _CHUNK])
        loaded: Mapping[str, Detail] = {}
        if part:
            first, last = min(r[0] for r in part), max(r[0] for r in part)
            loaded = self._source.record_details(runs, first, last, with_body=with_body)
        self._chunks[chunk] = (with_body, loaded)
        self._chunks.move_to_end(chunk)
        while len(self._chunks) > _KEEP_CHUNKS:
            self._chunks.popitem(last=False)
        return loaded

    def _by_ref(self, refs: Sequence[str], with_body: bool) -> Mapping[str, Detail]:
        # Records read before they were indexed, or renumbered while being indexed.
        if self._source is None or not refs:
            return {}
        return self._source.record_details_by_ref(refs, with_body=with_body)


def _gone(record_ref: str) -> StoreAccessError:
    msg = (
        f"record {record_ref!r} of this snapshot is no longer in the workspace (was the "
        "workspace deleted, moved or restored?); take the snapshot again"
    )
    return StoreAccessError(msg, code="store_missing", details={"record_ref": record_ref})


def json_value(text: str) -> int | float | None:
    """A metric value from a record's JSON (non-finite values are stored as text)."""
    raw = json.loads(text)["payload"].get("value")
    if isinstance(raw, str):
        return _NON_FINITE_TEXT.get(raw)
    return raw  # type: ignore[no-any-return]


def json_fields(record_type: str, text: str) -> dict[str, Any]:
    """The JSON-derived fields of an ``ObservationRecord`` (contract §6.1 family table)."""
    document = json.loads(text)
    envelope = document["envelope"]
    payload: Mapping[str, Any] = document["payload"]
    message: str | None = None
    unit: str | None = None
    tags: Mapping[str, Any] = EMPTY_MAP
    if record_type == "metric":
        unit = payload.get("unit")
        tags = freeze_mapping(payload.get("tags"))
    elif record_type == "event":
        message = payload.get("message")
        raw_tags = (payload.get("attributes") or {}).get("tags")
        if isinstance(raw_tags, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw_tags.items()
        ):
            tags = freeze_mapping(raw_tags)
    elif record_type == "span":
        unit = "ms"
    else:  # degraded
        message = payload.get("summary")
    correlation = envelope.get("correlation_refs") or {}
    return {
        "message": message,
        "payload": freeze_mapping(payload),
        "tags": tags,
        "schema_version": envelope.get("schema_version", "1.0.0"),
        "correlation_id": correlation.get("trace_id") or correlation.get("session_id"),
        "unit": unit,
    }


class SnapshotRow(NamedTuple):
    """A snapshot record as diagnostics reads it (``repository.RecordRowLike``)."""

    sequence: int
    record_ref: str
    record_type: str
    run_ref: str
    stage_ref: str | None
    batch_ref: str | None
    sample_ref: str | None
    operation_ref: str | None
    deployment_ref: str | None
    key: str
    value: int | float | None
    step: int | None
    observed_at: str
    recorded_at: str
    completeness_marker: str
    degradation_marker: str
    producer_ref: str
    severity: str | None
    record_json: str


def snapshot_rows(
    run_ref: str,
    rows: Sequence[HotRow],
    records: Sequence[ObservationRecord],
    details: RecordDetails,
) -> tuple[SnapshotRow, ...]:
    """Diagnostics rows of one run: ``rows[i]`` with ``records[i]``'s decoded values."""
    out = []
    for r, record, d in zip(rows, records, details.details_of_run(rows), strict=True):
        row = SnapshotRow(
            r[0], r[1], r[2], run_ref, r[3], r[4], r[5], r[6], r[7], r[8],
            record.value, record.step, r[13], d[0], d[1], d[2], d[3], d[4], d[5],
        )  # fmt: skip
        out.append(row)
    return tuple(out)
