"""Trends across runs and step series within a run (contract §5.12).

Run selection: the project's runs (or those a ``RunListQuery`` selects), at most
``trend.default_window_runs`` most recent by ``started_at`` unless the query sets a limit,
returned oldest first. Per-run values come from the cached per-run facts, so a trend over N
runs costs one query for the runs not analysed yet.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

from contexta.contract.text import check_key
from contexta.errors import TrendError, ValidationError, truncate_value
from contexta.interpret.facts import facts_for_runs, representative, summary_for
from contexta.interpret.instants import instant_key, parse_instant
from contexta.interpret.resolve import raise_not_found, resolve_stage
from contexta.interpret.results import (
    ArtifactSizePoint,
    ArtifactSizeTrend,
    CompletenessNote,
    DurationTrend,
    MetricTrend,
    StageDurationPoint,
    StepPoint,
    StepSeries,
    TrendPoint,
)
from contexta.interpret.run_list import RunListQuery, require_query, select_runs
from contexta.interpret.settings import resolve_settings

if TYPE_CHECKING:
    from contexta.interpret.query import QueryService
    from contexta.interpret.read_models import RunRecord
    from contexta.interpret.state import ReadState

__all__ = ["TrendArgumentError", "TrendService"]


class TrendArgumentError(TrendError, ValidationError):
    """A bad trend argument (both ``TrendError`` and ``ValidationError``)."""

    default_code = "validation_error"


def _check_text(value: object, field: str, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, str) and value.strip():
        return
    _reject(field, value, "a non-empty string" + (" or None" if optional else ""))


def _reject(field: str, value: object, allowed: str) -> NoReturn:
    shown = truncate_value(value)
    message = f"invalid {field}: got {shown}; allowed: {allowed}"
    raise TrendArgumentError(message, details={"field": field, "value": shown, "allowed": allowed})


def _note(summary: str, **details: Any) -> CompletenessNote:
    return CompletenessNote("info", summary, details or None)


class TrendService:
    """``TrendService(query_service, *, config=None)``; ``config`` as for diagnostics."""

    def __init__(self, query_service: QueryService, *, config: Any = None) -> None:
        self.query_service = query_service
        self.settings = resolve_settings(config)

    # -- run selection ----------------------------------------------------------------------

    def _runs(
        self, state: ReadState, project_name: str | None, query: RunListQuery | None
    ) -> tuple[str | None, list[RunRecord]]:
        query = require_query(query)
        if project_name is not None:
            _check_text(project_name, "project_name")
        if query is None:
            query = RunListQuery(project_name=project_name)
        elif query.project_name is None and project_name is not None:
            query = replace(query, project_name=project_name)
        runs = list(select_runs(state, query))
        if query.limit is None:
            runs.sort(key=lambda r: (instant_key(r.started_at or ""), r.run_id))
            runs = runs[-self.settings.trend.default_window_runs :]
        runs.sort(key=lambda r: (instant_key(r.started_at or ""), r.run_id))
        name = query.project_name
        if name is not None:
            project_ref = state.project_ref_for(name)
            name = state.project_name(project_ref) if project_ref is not None else name
        return name, runs

    # -- public methods ---------------------------------------------------------------------

    def get_metric_trend(
        self,
        metric_key: str,
        *,
        project_name: str | None = None,
        stage_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> MetricTrend:
        """One point per selected run that has the metric, oldest first."""
        _check_text(metric_key, "metric_key")
        _check_text(stage_name, "stage_name", optional=True)
        state = self.query_service.read_state()
        name, runs = self._runs(state, project_name, query)
        facts = facts_for_runs(state, [r.run_id for r in runs])
        selection = self.settings.trend.metric_aggregation
        points = []
        for run in runs:
            summary = summary_for(facts[run.run_id], metric_key, stage_name)
            if summary is None:
                continue
            value, captured_at = representative(summary, selection)
            points.append(
                TrendPoint(
                    run.run_id,
                    run.name,
                    value,
                    captured_at,
                    stage_name if stage_name is not None else summary.stage_name,
                )
            )
        notes: tuple[CompletenessNote, ...] = ()
        missing = len(runs) - len(points)
        if missing:
            notes = (_note(f"runs_without_metric:{missing}", count=missing),)
        return MetricTrend(metric_key, name, tuple(points), notes)

    def get_step_series(
        self,
        run_id: object,
        metric_key: str,
        *,
        stage_id: object = None,
        stage_name: str | None = None,
    ) -> StepSeries:
        """Metric records of one key in one run as (step, value, observed_at) points."""
        _check_text(metric_key, "metric_key")
        check_key(metric_key, "metric_key")  # "bad key" can never match: say so
        _check_text(stage_name, "stage_name", optional=True)
        state = self.query_service.read_state()
        run_ref = str(state.resolve_run(run_id).run_ref)
        stage_ref = None
        if stage_id is not None or stage_name is not None:
            stages = self.query_service.list_stages(run_ref)
            if stage_id is not None:
                stage_ref = resolve_stage(stages, stage_id, run_ref).stage_id
            if stage_name is not None:
                named = [s.stage_id for s in stages if s.name == stage_name]
                if not named or (stage_ref is not None and stage_ref not in named):
                    raise_not_found("stage", "stage_name", stage_name, run_ref)
                stage_ref = named[0]
        rows = list(
            state.repository.iter_record_rows(
                run_refs=[run_ref],
                record_type="metric",
                metric_key=metric_key,
                stage_ref=stage_ref,
            )
        )
        implicit = 0
        keyed = []
        for row in rows:
            if row.value is None:
                continue
            step = row.step
            if step is None:
                step, implicit = implicit, implicit + 1
            keyed.append((step, row.sequence, row))
        keyed.sort(key=lambda item: (item[0], item[1]))
        points = tuple(
            StepPoint(step, float(row.value or 0), row.observed_at) for step, _, row in keyed
        )
        notes = (_note(f"implicit_steps:{implicit}", count=implicit),) if implicit else ()
        return StepSeries(run_ref, metric_key, stage_ref, points, notes, _unit_of(rows))

    def get_stage_duration_trend(
        self,
        stage_name: str,
        *,
        project_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> DurationTrend:
        """Duration of the named stage per selected run that finished it, oldest run first."""
        _check_text(stage_name, "stage_name")
        state = self.query_service.read_state()
        name, runs = self._runs(state, project_name, query)
        by_run: dict[str, list[Any]] = {}
        for stage in state.repository.list_stages([r.run_id for r in runs]):
            if stage.stage_name == stage_name:
                by_run.setdefault(str(stage.run_ref), []).append(stage)
        points, open_count = [], 0
        for run in runs:
            for stage in by_run.get(run.run_id, ()):
                if stage.ended_at is None:
                    open_count += 1
                    continue
                seconds = (
                    parse_instant(stage.ended_at) - parse_instant(stage.started_at)
                ).total_seconds()
                points.append(
                    StageDurationPoint(run.run_id, run.name, stage_name, seconds, stage.started_at)
                )
        notes = []
        if open_count:
            notes.append(_note(f"open_stages_skipped:{open_count}", count=open_count))
        without = sum(1 for run in runs if run.run_id not in by_run)
        if without:
            notes.append(_note(f"runs_without_stage:{without}", count=without))
        return DurationTrend(stage_name, name, tuple(points), tuple(notes))

    def get_artifact_size_trend(
        self,
        artifact_kind: str,
        *,
        project_name: str | None = None,
        query: RunListQuery | None = None,
    ) -> ArtifactSizeTrend:
        """Size of each artifact of the kind per selected run, oldest run first."""
        _check_text(artifact_kind, "artifact_kind")
        state = self.query_service.read_state()
        name, runs = self._runs(state, project_name, query)
        position = {run.run_id: index for index, run in enumerate(runs)}
        names = {run.run_id: run.name for run in runs}
        manifests = [
            m
            for m in state.repository.list_artifacts(list(position))
            if m.artifact_kind == artifact_kind
        ]
        manifests.sort(
            key=lambda m: (
                position.get(str(m.run_ref), 0),
                instant_key(m.created_at),
                str(m.artifact_ref),
            )
        )
        points = tuple(
            ArtifactSizePoint(
                str(m.run_ref),
                names.get(str(m.run_ref), ""),
                artifact_kind,
                m.size_bytes,
                str(m.artifact_ref),
                m.created_at,
            )
            for m in manifests
            if m.size_bytes is not None
        )
        unknown = len(manifests) - len(points)
        notes = (_note(f"artifacts_without_size:{unknown}", count=unknown),) if unknown else ()
        return ArtifactSizeTrend(artifact_kind, name, points, notes)


def _unit_of(rows: list[Any]) -> str | None:
    for row in rows:
        if '"unit":null' in row.record_json:
            continue
        unit = json.loads(row.record_json)["payload"].get("unit")
        if unit is not None:
            return str(unit)
    return None
