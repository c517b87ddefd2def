"""What the data-quality layer stored in each earlier run, read once per process.

A profile's baseline is built from the runs before it, and the same runs serve every
dataset, stage and batch profiled tonight and on the following nights. Reading a run
means streaming all its metric rows (there is no key-prefix query), so each run is
parsed once into a ``RunHistory`` holding every dataset's statistics, schemas and
data-quality findings, and kept in a per-process cache.

The store's ``data_version()`` changes on every write, including the current run's own
metrics, so it cannot be the cache key between two profiles of one night. A cached run
stays valid while the metadata store reports the same status and end time for it and,
once anything was written since it was last checked, the record store still holds the
same number of records for it (one indexed count, instead of re-reading its rows).
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from contexta.quality.recording import TAG_COLUMN, TAG_DATASET, TAG_STAT
from contexta.quality.rules import BASELINE_STATS

__all__ = ["HISTORY_CACHE", "Group", "HistoryCache", "RunHistory", "read_runs"]

logger = logging.getLogger(__name__)

_STATS = frozenset(BASELINE_STATS)
_STAT_SUFFIXES = (*(f".{stat}" for stat in BASELINE_STATS), ".row_count")
_CATEGORY = "verification"
_MAX_RUNS = 512

StageDataset = tuple[str | None, str]


@dataclass(slots=True)
class Group:
    """One (stage, batch-or-stage) profile of a dataset in one run."""

    last_sequence: int = -1
    row_count: float | None = None
    schema: dict[str, str] | None = None
    stats: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(slots=True)
class RunHistory:
    """Profiles and findings of one run.

    ``groups[(stage, dataset)][batch]`` is the profile (``batch`` ``None`` for a stage-
    level profile); ``flagged[(stage, dataset)]`` holds the batches (``None``: the
    stage) where a data-quality finding named the dataset.
    """

    groups: dict[StageDataset, dict[str | None, Group]] = field(default_factory=dict)
    flagged: dict[StageDataset, set[str | None]] = field(default_factory=dict)

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


def _last_component(ref: object) -> str | None:
    if ref is None:
        return None
    return str(ref).split(":", 1)[-1].rsplit(".", 1)[-1]


def _iter_rows(record_store: Any, run_refs: Sequence[str], record_type: str) -> Iterator[_Row]:
    if hasattr(record_store, "iter_rows"):
        for row in record_store.iter_rows(run_refs=list(run_refs), record_type=record_type):
            yield _Row(row.sequence, str(row.run_ref), row.stage_ref, row.batch_ref, row.key,
                       row.value, row.payload_dict)
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
    """Parse the data-quality records of ``run_refs`` (three set-based reads)."""
    out = {ref: RunHistory() for ref in run_refs}
    if not run_refs:
        return out
    for row in _iter_rows(record_store, run_refs, "metric"):
        # cheap key test first: most metrics of a run are not profile statistics
        if row.run_ref not in out or not row.key.endswith(_STAT_SUFFIXES):
            continue
        if not isinstance(row.value, int | float) or isinstance(row.value, bool):
            continue
        tags = _payload(row).get("tags") or {}
        dataset, stat, column = tags.get(TAG_DATASET), tags.get(TAG_STAT), tags.get(TAG_COLUMN)
        if not isinstance(dataset, str):
            continue
        if stat == "row_count" and column is None:
            _touch(out[row.run_ref], row, dataset).row_count = float(row.value)
        elif stat in _STATS and isinstance(column, str):
            group = _touch(out[row.run_ref], row, dataset)
            group.stats.setdefault(column, {})[stat] = float(row.value)
    for row in _iter_rows(record_store, run_refs, "event"):
        if row.run_ref not in out or not row.key.endswith(".schema"):
            continue
        attributes = _payload(row).get("attributes") or {}
        dataset = attributes.get("dataset")
        schema = _schema_from(attributes) if isinstance(dataset, str) else None
        if isinstance(dataset, str) and schema is not None:
            _touch(out[row.run_ref], row, dataset).schema = schema
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


@dataclass(slots=True)
class _Entry:
    status: str
    ended_at: str
    record_count: int | None
    history: RunHistory


@dataclass(slots=True)
class _StoreCache:
    entries: OrderedDict[str, _Entry] = field(default_factory=OrderedDict)
    checked_version: object = None


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
        unchanged = version == cache.checked_version
        out: dict[str, RunHistory] = {}
        stale: list[tuple[Any, int]] = []
        for run in runs:
            ref = str(run.run_ref)
            with self._lock:
                entry = cache.entries.get(ref)
            same_run = (entry is not None and entry.status == str(run.status)
                        and entry.ended_at == str(run.ended_at))
            if entry is not None and same_run and unchanged:
                out[ref] = entry.history
                continue
            count = int(record_store.count_records(ref))
            if entry is not None and same_run and entry.record_count == count:
                out[ref] = entry.history
            else:
                stale.append((run, count))
        if stale:
            fresh = read_runs(record_store, [str(run.run_ref) for run, _ in stale])
            with self._lock:
                for run, count in stale:
                    ref = str(run.run_ref)
                    cache.entries[ref] = _Entry(str(run.status), str(run.ended_at), count,
                                                fresh[ref])
                    out[ref] = fresh[ref]
        with self._lock:
            for ref in out:
                cache.entries.move_to_end(ref)
            while len(cache.entries) > self.max_runs:
                cache.entries.popitem(last=False)
            cache.checked_version = version
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
