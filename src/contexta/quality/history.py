"""Build ``Baseline``s from what earlier runs stored, through the public store API.

The baseline of a profile is the same dataset name, in a stage of the same name,
in the previous ``history_runs`` completed runs of the same project that recorded
it (newest first). A batch profile prefers the history of the same batch name
where any exists; otherwise each run contributes its latest profile of the
dataset in that stage. Statistics are found by their ``dq.*`` tags, never by
parsing keys, so renaming rules for key segments cannot break history.

Reads are two set-based queries over a bounded window of candidate runs
(``RecordStore.iter_rows`` when the store has it, else ``scan`` per run).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from contexta.quality.recording import TAG_COLUMN, TAG_DATASET, TAG_STAT, ProfileKeys
from contexta.quality.rules import BASELINE_STATS, Baseline

__all__ = ["load_baselines"]

logger = logging.getLogger(__name__)

_MIN_WINDOW = 28


@dataclass(slots=True)
class _Group:
    """One (run, batch-or-stage) profile of the dataset, assembled from rows."""

    last_sequence: int = -1
    row_count: float | None = None
    schema: dict[str, str] | None = None
    stats: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Row:
    sequence: int
    run_ref: str
    stage_ref: str | None
    batch_ref: str | None
    key: str
    value: int | float | None
    payload: Any  # callable returning the payload dict


def _instant(text: object) -> _dt.datetime:
    value = str(text)
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return _dt.datetime.min.replace(tzinfo=_dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def _last_component(ref: object) -> str | None:
    if ref is None:
        return None
    return str(ref).split(":", 1)[-1].rsplit(".", 1)[-1]


def _candidate_runs(ctx: Any, run_ref: str, limit: int) -> list[Any]:
    """Completed runs of the project that started before ``run_ref``, newest first."""
    project_value = run_ref.split(":", 1)[-1].split(".", 1)[0]
    runs = list(ctx.metadata_store.runs.list_runs(f"project:{project_value}"))
    current = next((run for run in runs if str(run.run_ref) == run_ref), None)
    cutoff = _instant(current.started_at) if current is not None else None
    earlier = [
        run for run in runs
        if str(run.run_ref) != run_ref and run.status == "completed"
        and (cutoff is None or _instant(run.started_at) <= cutoff)
    ]
    earlier.sort(key=lambda run: (_instant(run.started_at), str(run.run_ref)), reverse=True)
    return earlier[:limit]


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
            key = str(getattr(payload, "metric_key", None) or getattr(payload, "event_key", ""))
            stage = envelope.stage_execution_ref
            batch = envelope.batch_execution_ref
            yield _Row(stored.sequence, ref, None if stage is None else str(stage),
                       None if batch is None else str(batch), key,
                       getattr(payload, "value", None), payload.to_dict)


def _collect(ctx: Any, run_refs: Sequence[str], keys: ProfileKeys,
             stage: str | None) -> dict[str, dict[str | None, _Group]]:
    """``{run_ref: {batch name or None: group}}`` for the dataset in ``stage``."""
    groups: dict[str, dict[str | None, _Group]] = {}
    prefix = keys.prefix + "."

    def group_of(row: _Row) -> _Group:
        per_run = groups.setdefault(row.run_ref, {})
        group = per_run.setdefault(_last_component(row.batch_ref), _Group())
        group.last_sequence = max(group.last_sequence, row.sequence)
        return group

    record_store = ctx.record_store
    for row in _iter_rows(record_store, run_refs, "metric"):
        if not row.key.startswith(prefix) or _last_component(row.stage_ref) != stage:
            continue
        tags = row.payload().get("tags") or {}
        if tags.get(TAG_DATASET) != keys.dataset or not isinstance(row.value, int | float):
            continue
        stat, column = tags.get(TAG_STAT), tags.get(TAG_COLUMN)
        if stat == "row_count" and column is None:
            group_of(row).row_count = float(row.value)
        elif stat in BASELINE_STATS and isinstance(column, str):
            group_of(row).stats.setdefault(column, {})[stat] = float(row.value)
    for row in _iter_rows(record_store, run_refs, "event"):
        if row.key != keys.schema or _last_component(row.stage_ref) != stage:
            continue
        schema = _schema_from(row.payload().get("attributes") or {}, keys.dataset)
        if schema is not None:
            group_of(row).schema = schema
    return groups


def _schema_from(attributes: dict[str, Any], dataset: str) -> dict[str, str] | None:
    if attributes.get("dataset") != dataset:
        return None
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


def load_baselines(ctx: Any, *, run_ref: str, stage: str | None, batch: str | None, dataset: str,
                   history_runs: int) -> tuple[Baseline, ...]:
    """Baselines for ``dataset`` at ``stage``/``batch``, newest first (at most ``history_runs``).

    ``stage`` and ``batch`` are the last ref components of the stage and batch
    (``stage=None`` for a run-level profile).
    """
    window = max(history_runs * 4, _MIN_WINDOW)
    candidates = _candidate_runs(ctx, run_ref, window)
    if not candidates:
        return ()
    refs = [str(run.run_ref) for run in candidates]
    keys = ProfileKeys(dataset, ())
    groups = _collect(ctx, refs, keys, stage)
    use_batch = batch is not None and any(batch in per_run for per_run in groups.values())
    baselines: list[Baseline] = []
    for run in candidates:
        per_run = groups.get(str(run.run_ref))
        if not per_run:
            continue
        if use_batch:
            group = per_run.get(batch)
        else:
            group = per_run.get(None) or max(per_run.values(), key=lambda g: g.last_sequence)
        if group is None or (group.row_count is None and not group.stats and group.schema is None):
            continue
        baselines.append(Baseline(run_ref=str(run.run_ref), row_count=group.row_count,
                                  schema=group.schema, stats=group.stats,
                                  started_at=str(run.started_at)))
        if len(baselines) >= history_runs:
            break
    logger.debug("dq baselines for %s at %s/%s: %d runs (batch history: %s)",
                 dataset, stage, batch, len(baselines), use_batch)
    return tuple(baselines)
