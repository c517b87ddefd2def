"""What the data-quality layer stored in each earlier run, read once per process.

A profile's baseline is built from the runs before it, and the same runs serve every
dataset, stage and batch profiled tonight and on the following nights. Reading a run
means streaming all its metric rows (there is no key-prefix query), so each run is
parsed once into a ``RunHistory`` holding every dataset's statistics, schemas and
data-quality findings, and kept in a per-process cache.

Stores that serve hot columns (``snapshot_rows``) are read without parsing every metric's
JSON: statistics are found under the keys the schema event's dataset and column order
give (``ProfileKeys``), and one statistic per profile is checked to carry the layer's tags.
A run holding anything else that looks like a statistic (hand-written, renamed keys, a
profile repeated with other columns) is read the general way, by tags, so both ways give
the same history.

The store's ``data_version()`` changes on every write, including the current run's own
metrics, so it cannot be the cache key between two profiles of one night. A cached run
stays valid while the metadata store reports the same status and end time for it and,
once anything was written since that run was last checked, the record store still holds
the same number of records for it (one indexed count, instead of re-reading its rows).

Groups also keep what read-time checks (``contexta.quality.deferred``) need to judge a
profile recorded with ``checks=False``: whether the layer wrote it, whether it was
checked, the stored check settings, the fingerprint and which statistics were ints.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from contexta.quality.recording import (
    ATTRIBUTE_CHECKED_BY,
    ATTRIBUTE_DEFERRED,
    COLUMN_STATS,
    SOURCE,
    TAG_COLUMN,
    TAG_DATASET,
    TAG_SOURCE,
    TAG_STAT,
    ProfileKeys,
    safe_text,
)
from contexta.quality.rules import BASELINE_STATS

__all__ = ["HISTORY_CACHE", "Group", "HistoryCache", "RunHistory", "read_runs"]

logger = logging.getLogger(__name__)

_STATS = frozenset(BASELINE_STATS)
_STAT_SUFFIXES = (*(f".{stat}" for stat in BASELINE_STATS), ".row_count")
_CATEGORY = "verification"
_MAX_RUNS = 512

StageDataset = tuple[str | None, str]
_SERIALS = itertools.count(1)


@dataclass(slots=True)
class Group:
    """One (stage, batch-or-stage) profile of a dataset in one run.

    ``layer``: statistics tagged by this layer; ``checked``: its schema event says the
    history checks ran; ``settings``: the event's ``deferred_check`` mapping;
    ``int_stats``: ``(column, stat)`` stored as ints (rebuilt profiles keep the type).
    """

    last_sequence: int = -1
    row_count: float | None = None
    schema: dict[str, str] | None = None
    stats: dict[str, dict[str, float]] = field(default_factory=dict)
    layer: bool = False
    checked: bool = False
    settings: Mapping[str, Any] | None = None
    fingerprint: str | None = None
    schema_rows: int | None = None
    int_stats: set[tuple[str, str]] = field(default_factory=set)

    @property
    def deferred(self) -> bool:
        """A profile of this layer whose history checks did not run at capture time."""
        return self.schema is not None and not self.checked and (
            self.layer or self.settings is not None)


@dataclass(slots=True)
class RunHistory:
    """Profiles and findings of one run.

    ``groups[(stage, dataset)][batch]`` is the profile (``batch`` ``None`` for a stage-
    level profile); ``flagged[(stage, dataset)]`` holds the batches (``None``: the
    stage) where a data-quality finding named the dataset.
    """

    groups: dict[StageDataset, dict[str | None, Group]] = field(default_factory=dict)
    flagged: dict[StageDataset, set[str | None]] = field(default_factory=dict)
    # Unique per parse: read-time memos compare it to notice a run was read again.
    serial: int = field(default_factory=lambda: next(_SERIALS), compare=False)

    def group(self, stage: str | None, dataset: str, batch: str | None) -> Group:
        per_stage = self.groups.setdefault((stage, dataset), {})
        return per_stage.setdefault(batch, Group())


@dataclass(frozen=True, slots=True)
class _Row:
    sequence: int
    run_ref: str
    stage_ref: str | None
    batch_ref: str | None
    key: str
    value: int | float | None
    payload: Any  # callable returning the payload dict
    text: str | None = None  # the stored record JSON, when the store hands it out


_DECODER = json.JSONDecoder()


@lru_cache(maxsize=8192)
def _component(ref: str) -> str:
    return ref.split(":", 1)[-1].rsplit(".", 1)[-1]


def _last_component(ref: object) -> str | None:
    return None if ref is None else _component(str(ref))


def _iter_rows(record_store: Any, run_refs: Sequence[str], record_type: str) -> Iterator[_Row]:
    if hasattr(record_store, "iter_rows"):
        for row in record_store.iter_rows(run_refs=list(run_refs), record_type=record_type):
            yield _Row(row.sequence, str(row.run_ref), row.stage_ref, row.batch_ref, row.key,
                       row.value, row.payload_dict, getattr(row, "record_json", None))
        return
    from contexta.store.records import ScanFilter

    for ref in run_refs:
        for stored in record_store.scan(ScanFilter(run_ref=ref, record_type=record_type)):
            record = stored.record
            envelope, payload = record.envelope, record.payload
            key = str(getattr(payload, "metric_key", None) or getattr(payload, "event_key", None)
                      or getattr(payload, "issue_key", ""))
            stage = envelope.stage_execution_ref
            batch = envelope.batch_execution_ref
            yield _Row(stored.sequence, ref, None if stage is None else str(stage),
                       None if batch is None else str(batch), key,
                       getattr(payload, "value", None), payload.to_dict)


def _payload(row: _Row) -> dict[str, Any]:
    """The row's payload; a damaged one (bad JSON) reads as empty."""
    try:
        payload = row.payload()
    except ValueError:
        logger.debug("unreadable payload of record %s in %s skipped", row.sequence, row.run_ref)
        return {}
    return payload if isinstance(payload, dict) else {}


def _tags(row: _Row) -> Any:
    """The metric's tags. Most metrics read are profile statistics and a history read
    parses thousands: decode only the tags object of canonical JSON, else the payload."""
    text = row.text
    if text is not None:
        start = text.find('"tags":{', text.find('"payload":{'))
        if start > 0:
            try:
                tags = _DECODER.raw_decode(text, start + 7)[0]
            except ValueError:
                tags = None
            if isinstance(tags, dict) and TAG_DATASET in tags:
                return tags
    return _payload(row).get("tags") or {}


def _schema_from(attributes: dict[str, Any]) -> dict[str, str] | None:
    columns = attributes.get("columns")
    if isinstance(columns, str):  # tolerate a JSON-encoded mapping written by hand
        try:
            columns = json.loads(columns)
        except ValueError:
            return None
    if not isinstance(columns, dict):
        return None
    order = attributes.get("column_order")
    names = [n for n in order if n in columns] if isinstance(order, list) else list(columns)
    names += [n for n in columns if n not in names]
    return {str(name): str(columns[name]) for name in names}


def _touch(history: RunHistory, row: _Row, dataset: str) -> Group:
    group = history.group(_last_component(row.stage_ref), dataset, _last_component(row.batch_ref))
    group.last_sequence = max(group.last_sequence, row.sequence)
    return group


def read_runs(record_store: Any, run_refs: Sequence[str]) -> dict[str, RunHistory]:
    """Parse the data-quality records of ``run_refs`` (a few set-based reads)."""
    run_refs = list(dict.fromkeys(run_refs))
    out: dict[str, RunHistory] = {}
    if hasattr(record_store, "snapshot_rows") and hasattr(record_store, "record_details_by_ref"):
        out = _read_hot(record_store, run_refs)
    rest = [ref for ref in run_refs if ref not in out]
    if rest:
        out.update(_read_tagged(record_store, rest))
    return out


def _read_tagged(record_store: Any, run_refs: Sequence[str]) -> dict[str, RunHistory]:
    """``read_runs`` by the ``dq.*`` tags of every statistic (any record store)."""
    out = {ref: RunHistory() for ref in run_refs}
    if not run_refs:
        return out
    for row in _iter_rows(record_store, run_refs, "metric"):
        # cheap key test first: most metrics of a run are not profile statistics
        if row.run_ref not in out or not row.key.endswith(_STAT_SUFFIXES):
            continue
        if not isinstance(row.value, int | float) or isinstance(row.value, bool):
            continue
        tags = _tags(row)
        dataset, stat, column = tags.get(TAG_DATASET), tags.get(TAG_STAT), tags.get(TAG_COLUMN)
        if not isinstance(dataset, str):
            continue
        if stat == "row_count" and column is None:
            group = _touch(out[row.run_ref], row, dataset)
            group.row_count = float(row.value)
        elif stat in _STATS and isinstance(column, str):
            group = _touch(out[row.run_ref], row, dataset)
            group.stats.setdefault(column, {})[stat] = float(row.value)
            if isinstance(row.value, int):
                group.int_stats.add((column, stat))
            else:
                group.int_stats.discard((column, stat))
        else:
            continue
        if tags.get(TAG_SOURCE) == SOURCE:
            group.layer = True
    for row in _iter_rows(record_store, run_refs, "event"):
        if row.run_ref not in out or not row.key.endswith(".schema"):
            continue
        attributes = _payload(row).get("attributes") or {}
        dataset = attributes.get("dataset")
        schema = _schema_from(attributes) if isinstance(dataset, str) else None
        if isinstance(dataset, str) and schema is not None:
            group = _touch(out[row.run_ref], row, dataset)
            group.schema = schema
            group.checked = attributes.get(ATTRIBUTE_CHECKED_BY) == SOURCE
            settings = attributes.get(ATTRIBUTE_DEFERRED)
            group.settings = settings if isinstance(settings, Mapping) else None
            fingerprint, rows = attributes.get("schema_fingerprint"), attributes.get("row_count")
            group.fingerprint = fingerprint if isinstance(fingerprint, str) else None
            group.schema_rows = rows if isinstance(rows, int) and not isinstance(rows, bool) \
                else None
    for row in _iter_rows(record_store, run_refs, "degraded"):
        if row.run_ref not in out or not row.key.startswith("dq."):
            continue
        payload = _payload(row)
        dataset = (payload.get("attributes") or {}).get("dataset")
        if payload.get("category") != _CATEGORY or not isinstance(dataset, str):
            continue
        flagged = out[row.run_ref].flagged.setdefault((_last_component(row.stage_ref), dataset),
                                                     set())
        flagged.add(_last_component(row.batch_ref))
    return out


# Positions in ``snapshot_rows`` tuples (``contexta.store.records.rows.HOT_COLUMNS``).
_SEQ, _REF, _TYPE, _STAGE, _BATCH, _KEY, _INT, _REAL, _TEXT = 0, 1, 2, 3, 4, 8, 9, 10, 11
_HOT_NAMES = {_SEQ: "seq", _REF: "record_ref", _TYPE: "record_type", _STAGE: "stage_ref",
              _BATCH: "batch_ref", _KEY: "key", _INT: "value_int", _REAL: "value_real",
              _TEXT: "value_text"}


class _Irregular(Exception):
    """The run holds statistics the key-based read cannot attribute: read it by tags."""


def _body_payload(details: Mapping[str, Any], record_ref: str) -> dict[str, Any]:
    found = details.get(record_ref)
    if found is None:
        raise _Irregular
    try:
        payload = json.loads(found[-1])["payload"]
    except (ValueError, KeyError, TypeError):
        raise _Irregular from None
    if not isinstance(payload, dict):
        raise _Irregular
    return payload


def _read_hot(record_store: Any, run_refs: Sequence[str]) -> dict[str, RunHistory]:
    """``read_runs`` from hot columns; runs it cannot read exactly are left out."""
    from contexta.store.records.rows import HOT_COLUMNS, decode_value

    if any(HOT_COLUMNS[i:i + 1] != (name,) for i, name in _HOT_NAMES.items()):
        return {}  # the store's row shape changed: read by tags
    by_run = record_store.snapshot_rows(run_refs)
    wanted: list[str] = []
    for ref in run_refs:
        for row in by_run.get(ref, ()):
            kind, key = row[_TYPE], row[_KEY]
            if (kind == "event" and key.endswith(".schema")) or (
                    kind == "degraded" and key.startswith("dq.")):
                wanted.append(row[_REF])
    details = record_store.record_details_by_ref(wanted, with_body=True) if wanted else {}
    read: dict[str, tuple[RunHistory, list[tuple[Group, str, str]]]] = {}
    for ref in run_refs:
        try:
            read[ref] = _hot_run(by_run.get(ref, ()), details, decode_value)
        except _Irregular:
            logger.debug("dq history of %s read by tags", ref)
    checked = [ref for _, checks in read.values() for _, ref, _ in checks]
    tags = record_store.record_details_by_ref(checked, with_body=True) if checked else {}
    out: dict[str, RunHistory] = {}
    for ref, (history, checks) in read.items():
        try:
            _check_tags(checks, tags)
        except _Irregular:
            logger.debug("dq history of %s read by tags", ref)
            continue
        out[ref] = history
    return out


def _hot_run(rows: Sequence[tuple[Any, ...]], details: Mapping[str, Any],
             decode: Any) -> tuple[RunHistory, list[tuple[Group, str, str]]]:
    """One run's history, and the row-count records whose tags must still be checked."""
    history = RunHistory()
    stats: dict[tuple[Any, Any, str], list[tuple[Any, ...]]] = {}
    schemas: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for row in rows:
        kind, key = row[_TYPE], row[_KEY]
        if kind == "metric":
            if key.endswith(_STAT_SUFFIXES):
                stats.setdefault((row[_STAGE], row[_BATCH], key), []).append(row)
        elif kind == "event" and key.endswith(".schema"):
            attributes = _body_payload(details, row[_REF]).get("attributes") or {}
            if isinstance(attributes, dict):
                schemas.append((row, attributes))
        elif kind == "degraded" and key.startswith("dq."):
            payload = _body_payload(details, row[_REF])
            attributes = payload.get("attributes") or {}
            dataset = attributes.get("dataset") if isinstance(attributes, dict) else None
            if payload.get("category") == _CATEGORY and isinstance(dataset, str):
                flagged = history.flagged.setdefault((_last_component(row[_STAGE]), dataset),
                                                     set())
                flagged.add(_last_component(row[_BATCH]))
    claimed: dict[tuple[Any, Any, str], str] = {}
    checks: list[tuple[Group, str, str]] = []
    latest: dict[tuple[Any, Any, str], tuple[tuple[Any, ...], dict[str, Any]]] = {}
    for row, attributes in schemas:
        dataset = attributes.get("dataset")
        schema = _schema_from(attributes) if isinstance(dataset, str) else None
        if not isinstance(dataset, str) or schema is None:
            continue
        group = history.group(_last_component(row[_STAGE]), dataset, _last_component(row[_BATCH]))
        group.last_sequence = max(group.last_sequence, row[_SEQ])
        group.schema = schema
        group.checked = attributes.get(ATTRIBUTE_CHECKED_BY) == SOURCE
        settings = attributes.get(ATTRIBUTE_DEFERRED)
        group.settings = settings if isinstance(settings, Mapping) else None
        fingerprint, count = attributes.get("schema_fingerprint"), attributes.get("row_count")
        group.fingerprint = fingerprint if isinstance(fingerprint, str) else None
        group.schema_rows = count if isinstance(count, int) and not isinstance(count, bool) \
            else None
        latest[(row[_STAGE], row[_BATCH], dataset)] = (row, attributes)
    for (stage_ref, batch_ref, dataset), (_, attributes) in latest.items():
        order = attributes.get("column_order")
        if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
            continue  # not the layer's event: its statistics, if any, stay unclaimed
        group = history.group(_last_component(stage_ref), dataset, _last_component(batch_ref))
        row_count_ref = None
        expected = _expected_keys(dataset, tuple(order))
        for key, (stat, column) in expected.items():
            where = (stage_ref, batch_ref, key)
            found = stats.get(where)
            if not found:
                continue
            if len(found) > 1 or claimed.setdefault(where, dataset) != dataset:
                raise _Irregular  # repeated or shared keys: only tags can tell them apart
            claimed[where] = dataset
            stat_row = found[0]
            value = decode(stat_row[_INT], stat_row[_REAL], stat_row[_TEXT])
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            group.last_sequence = max(group.last_sequence, stat_row[_SEQ])
            if column is None:
                group.row_count = float(value)
                row_count_ref = stat_row[_REF]
            else:
                group.stats.setdefault(column, {})[stat] = float(value)
                if isinstance(value, int):
                    group.int_stats.add((column, stat))
        if group.stats or group.row_count is not None:
            if row_count_ref is None:
                raise _Irregular
            checks.append((group, row_count_ref, dataset))
    for where, found in stats.items():
        if where not in claimed and any(
                isinstance(decode(r[_INT], r[_REAL], r[_TEXT]), int | float) for r in found):
            raise _Irregular  # a statistic no profile of this layer explains
    return history, checks


@lru_cache(maxsize=256)
def _expected_keys(dataset: str, order: tuple[str, ...]) -> dict[str, tuple[str, str | None]]:
    """Metric key -> (stat, tag column) of a profile of these columns (read-only result)."""
    keys = ProfileKeys(dataset, order)
    expected: dict[str, tuple[str, str | None]] = {keys.row_count: ("row_count", None)}
    for name in order:
        column = safe_text(name)
        for stat in COLUMN_STATS:
            expected[keys.column(name, stat)] = (stat, column)
    return expected


def _check_tags(checks: Sequence[tuple[Group, str, str]], details: Mapping[str, Any]) -> None:
    """Each profile's row count carries the layer's tags for its dataset (sets ``layer``)."""
    for group, ref, dataset in checks:
        tags = _body_payload(details, ref).get("tags")
        if not isinstance(tags, dict) or tags.get(TAG_DATASET) != dataset \
                or tags.get(TAG_STAT) != "row_count" or TAG_COLUMN in tags:
            raise _Irregular
        group.layer = tags.get(TAG_SOURCE) == SOURCE


@dataclass(slots=True)
class _Entry:
    status: str
    ended_at: str
    record_count: int | None
    history: RunHistory
    checked_version: object = None  # the data version at which it was last confirmed


@dataclass(slots=True)
class _StoreCache:
    entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)


class HistoryCache:
    """Parsed ``RunHistory`` per record store and run, bounded (least recently used)."""

    def __init__(self, max_runs: int = _MAX_RUNS) -> None:
        self.max_runs = max_runs
        self._lock = threading.Lock()
        self._stores: weakref.WeakKeyDictionary[Any, _StoreCache] = weakref.WeakKeyDictionary()

    def clear(self) -> None:
        with self._lock:
            self._stores.clear()

    def histories(self, record_store: Any, runs: Sequence[Any]) -> dict[str, RunHistory]:
        """``RunHistory`` of each run (metadata ``Run`` objects), reading only what changed."""
        counting = hasattr(record_store, "count_records") and hasattr(record_store,
                                                                     "data_version")
        cache = self._store_cache(record_store) if counting else None
        if cache is None:
            return read_runs(record_store, [str(run.run_ref) for run in runs])
        version = record_store.data_version()
        out: dict[str, RunHistory] = {}
        stale: list[tuple[Any, int]] = []
        for run in runs:
            ref = str(run.run_ref)
            with self._lock:
                entry = cache.entries.get(ref)
            same_run = (entry is not None and entry.status == str(run.status)
                        and entry.ended_at == str(run.ended_at))
            if entry is not None and same_run and entry.checked_version == version:
                out[ref] = entry.history
                continue
            count = int(record_store.count_records(ref))
            if entry is not None and same_run and entry.record_count == count:
                entry.checked_version = version
                out[ref] = entry.history
            else:
                stale.append((run, count))
        if stale:
            fresh = read_runs(record_store, [str(run.run_ref) for run, _ in stale])
            with self._lock:
                for run, count in stale:
                    ref = str(run.run_ref)
                    cache.entries[ref] = _Entry(str(run.status), str(run.ended_at), count,
                                                fresh[ref], version)
                    out[ref] = fresh[ref]
        with self._lock:
            for ref in out:
                if ref in cache.entries:
                    cache.entries.move_to_end(ref)
            while len(cache.entries) > self.max_runs:
                cache.entries.popitem(last=False)
        logger.debug("dq history: %d runs from cache, %d read", len(out) - len(stale), len(stale))
        return out

    def _store_cache(self, record_store: Any) -> _StoreCache | None:
        with self._lock:
            try:
                cache = self._stores.get(record_store)
                if cache is None:
                    cache = self._stores[record_store] = _StoreCache()
            except TypeError:  # not weak-referenceable: no cache
                return None
            return cache


#: The process-wide cache ``contexta.quality.history`` reads through.
HISTORY_CACHE = HistoryCache()
