"""Gather what the project report shows, through the facade's public read methods only.

One ``list_runs``, then one ``get_run_snapshot`` and one ``diagnose_run`` per run. Which
metrics get a chart is decided by the data: every metric that a diagnostic issue names
(``details["metric_key"]``) is followed across all runs, and the data-quality row counts
(metrics tagged ``dq.stat = row_count``, contract §7.1) give the rows per dataset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contexta.interpretation import DiagnosticsIssue, RunRecord, RunSnapshot

__all__ = ["ProjectView", "RunView", "WatchedMetric", "build_project_view", "severity_rank"]

_SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3}
_STAT_OF_CODE = {"null_rate_spike": "null_rate", "zero_collapse": "zero_rate"}
MAX_WATCHED = 8

DqKey = tuple[str, str, str]  # (dataset, column, stat), the exact names of the dq tags


def severity_rank(severity: str | None) -> int:
    return _SEVERITY_RANK.get(severity or "", 0)


def _instant(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _seconds(started: str | None, ended: str | None) -> float | None:
    start, end = _instant(started), _instant(ended)
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


@dataclass(frozen=True)
class WatchedMetric:
    """A metric some diagnostic pointed at, followed over every run.

    Data-quality statistics are found by their tags (``dq`` = dataset, column, stat), so
    the lookup works whatever key the quality layer chose; other metrics by key.
    """

    metric_key: str | None
    stage_name: str | None
    label: str
    dq: DqKey | None = None


@dataclass(frozen=True)
class RunView:
    run: RunRecord
    duration_seconds: float | None
    row_counts: Mapping[str, int | float]
    stage_seconds: Mapping[str, float]
    metric_values: Mapping[tuple[str | None, str], int | float]
    dq_values: Mapping[DqKey, int | float]
    issues: tuple[DiagnosticsIssue, ...]
    record_count: int
    artifact_count: int

    @property
    def highest_severity(self) -> str | None:
        best = max(self.issues, key=lambda issue: severity_rank(issue.severity), default=None)
        return best.severity if best is not None else None

    def value_of(self, watched: WatchedMetric) -> int | float | None:
        """The run's latest value of a watched metric (its stage first, else any stage)."""
        if watched.dq is not None:
            return self.dq_values.get(watched.dq)
        if watched.metric_key is None:
            return None
        if (watched.stage_name, watched.metric_key) in self.metric_values:
            return self.metric_values[(watched.stage_name, watched.metric_key)]
        return self.metric_values.get((None, watched.metric_key))


@dataclass(frozen=True)
class ProjectView:
    project_name: str
    title: str
    runs: tuple[RunView, ...]
    datasets: tuple[str, ...]
    stages: tuple[str, ...]
    watched: tuple[WatchedMetric, ...]
    generated_at: str


@dataclass
class _Values:
    by_key: dict[tuple[str | None, str], int | float]
    by_dq: dict[DqKey, int | float]
    rows: dict[str, int | float]


def _metric_values(snapshot: RunSnapshot) -> _Values:
    """Latest value per (stage name, key), per key alone, per dq tags; rows per dataset."""
    stage_names = {stage.stage_id: stage.name for stage in snapshot.stages}
    values = _Values({}, {}, {})
    for record in snapshot.records:  # sequence order: later wins
        if record.record_type != "metric" or record.value is None:
            continue
        stage = stage_names.get(record.stage_id or "")
        values.by_key[(stage, record.key)] = record.value
        values.by_key[(None, record.key)] = record.value
        tags = record.tags
        stat, dataset = tags.get("dq.stat"), tags.get("dq.dataset")
        if not stat or not dataset:
            continue
        column = tags.get("dq.column")
        if column:
            values.by_dq[(dataset, column, stat)] = record.value
        elif stat == "row_count":
            values.rows[dataset] = record.value
    return values


def _dq_stat(issue: DiagnosticsIssue, details: Mapping[str, Any]) -> str | None:
    stat = details.get("stat")
    if isinstance(stat, str) and stat:
        return stat
    if issue.code == "zero_collapse" and details.get("rule") == "became_constant":
        return "distinct_count"
    return _STAT_OF_CODE.get(issue.code)


def _watched_from(issue: DiagnosticsIssue, stage_of: Mapping[str, str]) -> WatchedMetric | None:
    details: Mapping[str, Any] = issue.details or {}
    stage = details.get("stage_name")
    if not isinstance(stage, str):
        stage = stage_of.get(str(details.get("stage_id") or ""))
    dataset, column = details.get("dataset"), details.get("column")
    stat = _dq_stat(issue, details)
    if isinstance(dataset, str) and isinstance(column, str) and stat:
        label = f"{dataset}.{column} {stat.replace('_', ' ')}"
        return WatchedMetric(None, stage, label, dq=(dataset, column, stat))
    key = details.get("metric_key")
    if not isinstance(key, str) or not key:
        return None
    return WatchedMetric(key, stage, f"{stage}/{key}" if stage else key)


def build_project_view(ctx: Any, project_name: str, title: str) -> ProjectView:
    """Read the project's runs, snapshots and diagnoses into one view model."""
    runs: list[RunView] = []
    datasets: dict[str, None] = {}
    stages: dict[str, None] = {}
    watched: dict[object, WatchedMetric] = {}
    for record in ctx.list_runs(project_name):
        snapshot = ctx.get_run_snapshot(record.run_id)
        diagnosis = ctx.diagnose_run(record.run_id)
        values = _metric_values(snapshot)
        stage_of = {stage.stage_id: stage.name for stage in snapshot.stages}
        stage_seconds: dict[str, float] = {}
        for stage in snapshot.stages:
            stages.setdefault(stage.name)
            seconds = _seconds(stage.started_at, stage.ended_at)
            if seconds is not None:
                stage_seconds[stage.name] = stage_seconds.get(stage.name, 0.0) + seconds
        for dataset in values.rows:
            datasets.setdefault(dataset)
        for issue in diagnosis.issues:
            one = _watched_from(issue, stage_of)
            if one is not None:
                watched.setdefault(one.dq or (one.stage_name, one.metric_key or ""), one)
        runs.append(
            RunView(
                run=snapshot.run,
                duration_seconds=_seconds(snapshot.run.started_at, snapshot.run.ended_at),
                row_counts=values.rows,
                stage_seconds=stage_seconds,
                metric_values=values.by_key,
                dq_values=values.by_dq,
                issues=tuple(diagnosis.issues),
                record_count=len(snapshot.records),
                artifact_count=len(snapshot.artifacts),
            )
        )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return ProjectView(
        project_name=project_name,
        title=title,
        runs=tuple(runs),
        datasets=tuple(datasets),
        stages=tuple(stages),
        # Column statistics (what the data-quality rules flag) first, then other metrics.
        watched=tuple(sorted(watched.values(), key=lambda w: w.dq is None)[:MAX_WATCHED]),
        generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
