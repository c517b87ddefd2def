"""One line of data-quality facts per run, from the run's stored metrics.

Used by ``contexta summary`` (and any surface that wants the same table). Row
counts and null rates come from the ``dq.*`` statistics of profiles (contract
§7.1); runs written by hand without profiles are read through the same
conventions diagnostics uses: a null-rate metric is one whose last key segment
is ``null_rate``/``null-rate`` or ends with ``_null_rate``/``-null-rate`` (the
seed's ``feature-null-rate``), and a row count one whose last segment names rows
(``rows-processed``, ``row_count``, ...).

A quantity is counted once. Per stage, a row count is the stage's own metric
(latest value) when the stage recorded one; only when it did not are its batches'
values summed (latest value per batch). The run shows its own run-level metric
when there is one (what the nightly demo report reads: ``rows_written`` logged on
the run); otherwise the stage whose row count was recorded last, i.e. the
pipeline's output stage. A null rate is the worst (largest) value seen for that
column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from contexta.quality.recording import TAG_COLUMN, TAG_DATASET, TAG_STAT

__all__ = ["RunQualitySummary", "is_null_rate_key", "is_row_count_key", "summarize_run"]

_SEGMENTS = re.compile(r"[./]")
_ROW_SEGMENTS = {"rows", "row_count", "row-count", "rows_processed", "rows-processed", "n_rows",
                 "num_rows", "record_count", "records-processed"}


def _last_segment(key: str) -> str:
    return _SEGMENTS.split(key)[-1]


def is_null_rate_key(key: str) -> bool:
    """The null-rate naming rule of contract §7.1 for metrics without ``dq.*`` tags."""
    last = _last_segment(key)
    return last in ("null_rate", "null-rate") or last.endswith(("_null_rate", "-null-rate"))


def is_row_count_key(key: str) -> bool:
    return _last_segment(key) in _ROW_SEGMENTS


@dataclass(frozen=True, slots=True)
class RunQualitySummary:
    """Rows, null rates and diagnostic flags of one run."""

    run_id: str
    name: str
    status: str
    started_at: str | None
    rows: Mapping[str, int | float] = field(default_factory=dict)
    null_rates: Mapping[str, float] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    highest_severity: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", MappingProxyType(dict(self.rows)))
        object.__setattr__(self, "null_rates", MappingProxyType(dict(self.null_rates)))

    @property
    def total_rows(self) -> int | float | None:
        """The row count when the run has exactly one dataset (or one row metric)."""
        if len(self.rows) == 1:
            return next(iter(self.rows.values()))
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


_RowKey = tuple[str, str | None, str | None]  # (label, stage_id, batch_id)


def _metric_facts(records: Iterable[Any]) -> tuple[dict[str, int | float], dict[str, float]]:
    row_values: dict[_RowKey, int | float] = {}  # latest value per (label, stage, batch)
    row_order: dict[_RowKey, int] = {}  # position of that latest value
    null_rates: dict[str, float] = {}
    for position, record in enumerate(records):
        if getattr(record, "record_type", None) != "metric":
            continue
        value = _number(record.value)
        if value is None:
            continue
        tags = record.tags or {}
        stat, dataset = tags.get(TAG_STAT), tags.get(TAG_DATASET)
        label: str | None = None
        if stat is not None and dataset is not None:
            if stat == "row_count":
                label = dataset
            elif stat == "null_rate" and tags.get(TAG_COLUMN) is not None:
                column = f"{dataset}.{tags[TAG_COLUMN]}"
                null_rates[column] = max(null_rates.get(column, value), value)
        elif is_row_count_key(record.key):
            label = record.key
        elif is_null_rate_key(record.key):
            null_rates[record.key] = max(null_rates.get(record.key, value), value)
        if label is not None:
            key = (label, record.stage_id, record.batch_id)
            row_values[key] = value
            row_order[key] = position
    return _run_rows(row_values, row_order), null_rates


def _run_rows(
    row_values: Mapping[_RowKey, int | float], row_order: Mapping[_RowKey, int]
) -> dict[str, int | float]:
    """One row count per label: run-level metric, else the last stage's (own or batch sum)."""
    run_level: dict[str, int | float] = {}
    own: dict[tuple[str, str], int | float] = {}
    batch_sums: dict[tuple[str, str], int | float] = {}
    last_seen: dict[tuple[str, str], int] = {}
    for (label, stage, batch), value in row_values.items():
        if stage is None:
            if batch is None:
                run_level[label] = value
            continue
        target = own if batch is None else batch_sums
        target[(label, stage)] = target.get((label, stage), 0) + value
        position = row_order[(label, stage, batch)]
        last_seen[(label, stage)] = max(last_seen.get((label, stage), -1), position)
    rows: dict[str, int | float] = {}
    chosen: dict[str, int] = {}
    for (label, stage), position in last_seen.items():
        if label in run_level or position <= chosen.get(label, -1):
            continue
        chosen[label] = position
        rows[label] = own.get((label, stage), batch_sums.get((label, stage), 0))
    for label, value in run_level.items():
        rows[label] = value
    # Keep the labels in the order their counts were first recorded.
    first: dict[str, int] = {}
    for (label, _, _), position in row_order.items():
        first[label] = min(first.get(label, position), position)
    return {label: rows[label] for label in sorted(rows, key=first.__getitem__)}


def summarize_run(run: Any, records: Iterable[Any], issues: Iterable[Any]) -> RunQualitySummary:
    """Summary of one run from its ``RunRecord``, snapshot records and diagnostics issues.

    ``flags`` are the distinct codes of issues at ``warning`` or ``error``, in issue order.
    """
    rows, null_rates = _metric_facts(records)
    flags: list[str] = []
    highest: str | None = None
    rank = {"info": 0, "warning": 1, "error": 2}
    for issue in issues:
        severity = getattr(issue, "severity", "info")
        if highest is None or rank.get(severity, -1) > rank.get(highest, -1):
            highest = severity
        if rank.get(severity, -1) >= 1 and issue.code not in flags:
            flags.append(issue.code)
    return RunQualitySummary(run_id=run.run_id, name=run.name, status=run.status,
                             started_at=run.started_at, rows=rows, null_rates=null_rates,
                             flags=tuple(flags), highest_severity=highest)
