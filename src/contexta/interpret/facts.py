"""Per-run metric summaries and schema events, cached per data version.

History rules (anomalies, null-rate spikes, zero collapse, schema changes, trends) compare a
run with up to ``trend.default_window_runs`` earlier runs. Each run's derived facts are
computed once per data version, from rows already read for its snapshot when possible and
otherwise with one set-based query for all runs still missing, so diagnosing N runs in a loop
costs O(N) rather than O(N * window).

A ``MetricSummary`` keeps enough per (stage name, key) to give any representative value of
contract §5.7 (``latest``, ``max``, ``min``, ``mean``) and to merge stages.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contexta.interpret.frozen_map import EMPTY_MAP, FrozenMap, freeze_mapping
from contexta.interpret.instants import instant_key

if TYPE_CHECKING:
    from contexta.interpret.repository import RecordRowLike
    from contexta.interpret.state import ReadState

__all__ = [
    "MetricSummary",
    "RunFacts",
    "SchemaFact",
    "facts_for_runs",
    "facts_of",
    "merge_summaries",
    "metric_facts_from_rows",
    "remember_facts",
    "representative",
    "schema_facts_for_runs",
    "schema_facts_from_rows",
    "stage_name_of",
    "subject_id",
    "summary_for",
]

MetricKey = tuple[str | None, str]


def stage_name_of(stage_ref: str | None) -> str | None:
    """Stage name from a stage ref (its last component, contract §3.3)."""
    return None if stage_ref is None else stage_ref.rpartition(".")[2]


def subject_id(stage_name: str | None, key: str) -> str:
    """One string naming (stage name, metric key); stage names are never empty."""
    return f"{stage_name or ''}\x1f{key}"


def _finite(value: int | float) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


@dataclass(slots=True)
class MetricSummary:
    """Running summary of one metric key in one stage (or at run level) of one run."""

    stage_name: str | None
    key: str
    first_position: int  # store sequence of the first record (snapshot order)
    latest_value: int | float
    latest_rank: tuple[str, int]
    latest_observed_at: str
    latest_record_id: str
    latest_position: int
    latest_tags: Mapping[str, Any]
    finite_count: int = 0
    finite_sum: float = 0.0
    max_value: int | float | None = None
    max_observed_at: str | None = None
    min_value: int | float | None = None
    min_observed_at: str | None = None
    subject: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.subject = subject_id(self.stage_name, self.key)

    def add(self, row: RecordRowLike, position: int, tags: Mapping[str, Any] | None) -> None:
        value = row.value
        assert value is not None
        rank = (instant_key(row.observed_at), row.sequence)
        if rank > self.latest_rank:
            self.latest_value = value
            self.latest_rank = rank
            self.latest_observed_at = row.observed_at
            self.latest_record_id = row.record_ref
            self.latest_position = position
            self.latest_tags = tags if tags is not None else EMPTY_MAP
        if _finite(value):
            self.finite_count += 1
            self.finite_sum += value
            if self.max_value is None or value > self.max_value:
                self.max_value, self.max_observed_at = value, row.observed_at
            if self.min_value is None or value < self.min_value:
                self.min_value, self.min_observed_at = value, row.observed_at


def representative(summary: MetricSummary, selection: str) -> tuple[int | float, str]:
    """(value, observed_at) chosen by ``selection`` (contract §5.7).

    ``max``/``min``/``mean`` use finite values only; when every value is non-finite the
    latest one is returned.
    """
    if selection == "latest" or summary.finite_count == 0:
        return summary.latest_value, summary.latest_observed_at
    if selection == "max":
        return summary.max_value, summary.max_observed_at  # type: ignore[return-value]
    if selection == "min":
        return summary.min_value, summary.min_observed_at  # type: ignore[return-value]
    return summary.finite_sum / summary.finite_count, summary.latest_observed_at


def merge_summaries(parts: Sequence[MetricSummary]) -> MetricSummary:
    """One summary over several stages of the same key (for "any stage" questions)."""
    first = parts[0]
    merged = MetricSummary(
        None,
        first.key,
        first.first_position,
        first.latest_value,
        first.latest_rank,
        first.latest_observed_at,
        first.latest_record_id,
        first.latest_position,
        first.latest_tags,
        first.finite_count,
        first.finite_sum,
        first.max_value,
        first.max_observed_at,
        first.min_value,
        first.min_observed_at,
    )
    for part in parts[1:]:
        merged.first_position = min(merged.first_position, part.first_position)
        if part.latest_rank > merged.latest_rank:
            merged.latest_value, merged.latest_rank = part.latest_value, part.latest_rank
            merged.latest_observed_at = part.latest_observed_at
            merged.latest_record_id = part.latest_record_id
            merged.latest_position = part.latest_position
            merged.latest_tags = part.latest_tags
        merged.finite_count += part.finite_count
        merged.finite_sum += part.finite_sum
        if part.max_value is not None and (
            merged.max_value is None or part.max_value > merged.max_value
        ):
            merged.max_value, merged.max_observed_at = part.max_value, part.max_observed_at
        if part.min_value is not None and (
            merged.min_value is None or part.min_value < merged.min_value
        ):
            merged.min_value, merged.min_observed_at = part.min_value, part.min_observed_at
    return merged


@dataclass(frozen=True, slots=True)
class SchemaFact:
    """The latest schema event of one dataset in one run (contract §7.1)."""

    dataset: str
    columns: Mapping[str, str]
    record_id: str
    position: int


@dataclass(frozen=True, slots=True)
class RunFacts:
    run_ref: str
    metrics: Mapping[MetricKey, MetricSummary]
    _finite_values: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    def finite_values(self, selection: str) -> dict[str, float]:
        """Finite representative value per ``subject_id`` (cached per selection).

        Keyed by ``subject_id`` strings, whose hashes Python caches, because history rules
        look values up thousands of times per diagnosis loop.
        """
        cached = self._finite_values.get(selection)
        if cached is None:
            cached = {}
            for summary in self.metrics.values():
                value = representative(summary, selection)[0]
                if _finite(value):
                    cached[summary.subject] = float(value)
            self._finite_values[selection] = cached
        return cached


def metric_facts_from_rows(run_ref: str, rows: Iterable[RecordRowLike]) -> RunFacts:
    """Summaries of every metric of one run; ``rows`` in sequence order (any record types)."""
    summaries: dict[MetricKey, MetricSummary] = {}
    for row in rows:
        if row.record_type != "metric" or row.value is None:
            continue
        position = row.sequence
        key = (stage_name_of(row.stage_ref), row.key)
        tags = _metric_tags(row)
        summary = summaries.get(key)
        if summary is None:
            value = row.value
            summary = MetricSummary(
                key[0],
                row.key,
                position,
                value,
                (instant_key(row.observed_at), row.sequence),
                row.observed_at,
                row.record_ref,
                position,
                tags if tags is not None else EMPTY_MAP,
            )
            if _finite(value):
                summary.finite_count, summary.finite_sum = 1, float(value)
                summary.max_value = summary.min_value = value
                summary.max_observed_at = summary.min_observed_at = row.observed_at
            summaries[key] = summary
        else:
            summary.add(row, position, tags)
    return RunFacts(run_ref, summaries)


def _metric_tags(row: RecordRowLike) -> Mapping[str, Any] | None:
    # Only data-quality statistic metrics need their tags; a cheap text test avoids parsing
    # the JSON of every other metric.
    if '"dq.stat"' not in row.record_json:
        return None
    tags = json.loads(row.record_json)["payload"].get("tags")
    return freeze_mapping(tags) if tags else None


def schema_facts_from_rows(rows: Iterable[RecordRowLike]) -> Mapping[str, SchemaFact]:
    """Latest schema event per dataset: events whose key ends with ``.schema`` (§7.1)."""
    found: dict[str, tuple[tuple[str, int], SchemaFact]] = {}
    for row in rows:
        if row.record_type != "event" or not row.key.endswith(".schema"):
            continue
        position = row.sequence
        try:
            attributes = json.loads(row.record_json)["payload"].get("attributes") or {}
        except (ValueError, KeyError, TypeError):
            continue
        dataset, columns = attributes.get("dataset"), attributes.get("columns")
        if not isinstance(dataset, str) or not isinstance(columns, Mapping):
            continue
        rank = (instant_key(row.observed_at), row.sequence)
        held = found.get(dataset)
        if held is None or rank > held[0]:
            fact = SchemaFact(
                dataset,
                FrozenMap({str(k): str(v) for k, v in columns.items()}),
                row.record_ref,
                position,
            )
            found[dataset] = (rank, fact)
    return FrozenMap({name: entry[1] for name, entry in found.items()})


def facts_for_runs(state: ReadState, run_refs: Sequence[str]) -> dict[str, RunFacts]:
    """Metric facts of every run, fetching all runs not yet cached in one query."""
    out: dict[str, RunFacts] = {}
    missing: list[str] = []
    for ref in run_refs:
        cached = state.facts.get((ref, "metrics"))
        if cached is None:
            missing.append(ref)
        else:
            out[ref] = cached
    if missing:
        grouped: dict[str, list[RecordRowLike]] = {ref: [] for ref in missing}
        for row in state.repository.iter_record_rows(run_refs=missing, record_type="metric"):
            bucket = grouped.get(row.run_ref)
            if bucket is not None:
                bucket.append(row)
        for ref, rows in grouped.items():
            facts = metric_facts_from_rows(ref, rows)
            state.facts[(ref, "metrics")] = facts
            out[ref] = facts
    return out


def facts_of(state: ReadState, run_ref: str) -> RunFacts:
    """Metric facts of one run (cached; fetched alone when missing)."""
    cached: RunFacts | None = state.facts.get((run_ref, "metrics"))
    if cached is None:
        cached = facts_for_runs(state, [run_ref])[run_ref]
    return cached


def remember_facts(state: ReadState, run_ref: str, rows: Sequence[RecordRowLike]) -> RunFacts:
    """Metric facts of a run whose rows are already at hand (its snapshot)."""
    cached = state.facts.get((run_ref, "metrics"))
    if cached is None:
        cached = metric_facts_from_rows(run_ref, rows)
        state.facts[(run_ref, "metrics")] = cached
    return cached


def schema_facts_for_runs(
    state: ReadState, run_refs: Sequence[str]
) -> dict[str, Mapping[str, SchemaFact]]:
    """Schema facts of every run (one query for all runs not yet cached)."""
    out: dict[str, Mapping[str, SchemaFact]] = {}
    missing = []
    for ref in run_refs:
        cached = state.facts.get((ref, "schemas"))
        if cached is None:
            missing.append(ref)
        else:
            out[ref] = cached
    if missing:
        grouped: dict[str, list[RecordRowLike]] = {ref: [] for ref in missing}
        for row in state.repository.iter_record_rows(run_refs=missing, record_type="event"):
            bucket = grouped.get(row.run_ref)
            if bucket is not None:
                bucket.append(row)
        for ref, rows in grouped.items():
            schemas = schema_facts_from_rows(rows)
            state.facts[(ref, "schemas")] = schemas
            out[ref] = schemas
    return out


def summary_for(facts: RunFacts, metric_key: str, stage_name: str | None) -> MetricSummary | None:
    """The key's summary in one stage, or merged over every stage and run level (``None``)."""
    if stage_name is not None:
        return facts.metrics.get((stage_name, metric_key))
    parts = [s for (_, key), s in facts.metrics.items() if key == metric_key]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else merge_summaries(parts)
