"""``QueryService``: projects, runs, deployments, batches, samples, snapshots, provenance.

Every public method resolves its identifiers per contract §5.3, reads through the
repository's set-based calls and caches what it derived under the store's data version (see
``state.py``), so repeated and looping calls stay linear in the data they touch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from contexta.interpret.instants import instant_key
from contexta.interpret.prefetch import remember_listing
from contexta.interpret.projection import (
    batch_record,
    deployment_record,
    relation_record,
    sample_record,
    stage_record,
)
from contexta.interpret.resolve import resolve_batch, resolve_stage
from contexta.interpret.run_list import (
    MetricCondition,
    RunListQuery,
    TimeRange,
    require_query,
    select_runs,
)
from contexta.interpret.settings import resolve_settings
from contexta.interpret.snapshot import build_bundle, latest_provenance
from contexta.interpret.state import ReadState, StateHolder

if TYPE_CHECKING:
    from contexta.interpret.read_models import (
        BatchRecord,
        DeploymentRecord,
        ProvenanceView,
        RunRecord,
        SampleRecord,
        StageRecord,
    )
    from contexta.interpret.repository import CompositeRepository
    from contexta.interpret.results import RunSnapshot

__all__ = ["QueryService"]


class QueryService:
    """``QueryService(repository)`` over any ``CompositeRepository``.

    ``config`` (optional, any form ``resolve_settings`` accepts) is kept for services that
    share this query service; queries themselves have no tunable policy.
    """

    def __init__(self, repository: CompositeRepository, *, config: Any = None) -> None:
        self.repository = repository
        self.settings = resolve_settings(config)
        self._states = StateHolder(repository)

    def read_state(self) -> ReadState:
        """Caches of the current data version (shared with the other services)."""
        return self._states.current()

    # -- projects and runs ------------------------------------------------------------------

    def list_projects(self) -> tuple[str, ...]:
        """Project names by ``created_at``, then ref."""
        projects = self.read_state().projects()
        ordered = sorted(projects, key=lambda p: (instant_key(p.created_at), str(p.project_ref)))
        return tuple(project.name for project in ordered)

    def list_runs(
        self,
        project_name: str | None = None,
        *,
        status: str | None = None,
        tags: Mapping[str, str] | None = None,
        metric_conditions: Sequence[MetricCondition] = (),
        time_range: TimeRange | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort_by: str = "started_at",
        sort_desc: bool = False,
        query: RunListQuery | None = None,
    ) -> tuple[RunRecord, ...]:
        """Runs per contract §5.5: one order whatever the filters, oldest first by default."""
        selected = require_query(query)
        if selected is None:
            selected = RunListQuery(
                project_name=project_name,
                status=status,
                tags=tags,
                time_range=time_range,
                metric_conditions=metric_conditions,
                limit=limit,
                offset=offset,
                sort_by=sort_by,
                sort_desc=sort_desc,
            )
        elif selected.project_name is None and project_name is not None:
            selected = _with_project(selected, project_name)
        state = self.read_state()
        runs = select_runs(state, selected)
        remember_listing(state, [run.run_id for run in runs])
        return runs

    def get_run(self, run_id: object) -> RunRecord:
        """The run named by any §5.3 form."""
        state = self.read_state()
        return state.run_record(state.resolve_run(run_id))

    # -- run contents -----------------------------------------------------------------------

    def get_run_snapshot(self, run_id: object) -> RunSnapshot:
        """Everything attached to the run (contract §5.6)."""
        state = self.read_state()
        return build_bundle(state, state.resolve_run(run_id)).snapshot

    def list_stages(self, run_id: object) -> tuple[StageRecord, ...]:
        state = self.read_state()
        run = state.resolve_run(run_id)
        return self._stages(state, str(run.run_ref))

    def list_batches(self, run_id: object, stage_id: object = None) -> tuple[BatchRecord, ...]:
        """Batches by stage order, ``order``, ``started_at``."""
        state = self.read_state()
        run_ref = str(state.resolve_run(run_id).run_ref)
        cached = state.cached_snapshot(run_ref)
        stages = cached.snapshot.stages if cached is not None else self._stages(state, run_ref)
        stage_ref = None if stage_id is None else resolve_stage(stages, stage_id, run_ref).stage_id
        if cached is not None:
            batches = cached.snapshot.batches
        else:
            position = {stage.stage_id: index for index, stage in enumerate(stages)}
            raw = sorted(
                state.repository.list_batches([run_ref]),
                key=lambda b: (
                    position.get(str(b.stage_execution_ref), len(position)),
                    b.order_index is None,
                    b.order_index or 0,
                    instant_key(b.started_at),
                    str(b.batch_execution_ref),
                ),
            )
            batches = tuple(batch_record(b) for b in raw)
        return tuple(b for b in batches if stage_ref is None or b.stage_id == stage_ref)

    def list_samples(
        self, run_id: object, stage_id: object = None, batch_id: object = None
    ) -> tuple[SampleRecord, ...]:
        """Samples by ``observed_at``, ref; optionally of one stage and/or batch."""
        state = self.read_state()
        run_ref = str(state.resolve_run(run_id).run_ref)
        stage_ref = None
        if stage_id is not None:
            stage_ref = resolve_stage(self._stages(state, run_ref), stage_id, run_ref).stage_id
        batch_ref = None
        if batch_id is not None:
            batches = self.list_batches(run_ref, stage_ref)
            batch_ref = resolve_batch(batches, batch_id, run_ref, stage_ref).batch_id
        raw = sorted(
            state.repository.list_samples([run_ref]),
            key=lambda s: (instant_key(s.observed_at), str(s.sample_observation_ref)),
        )
        return tuple(
            sample_record(s)
            for s in raw
            if (stage_ref is None or str(s.stage_execution_ref) == stage_ref)
            and (batch_ref is None or str(s.batch_execution_ref) == batch_ref)
        )

    def list_deployments(
        self, project_name: str | None = None, run_id: object = None
    ) -> tuple[DeploymentRecord, ...]:
        """Deployments by ``started_at``, ref; an unknown project gives ``()``."""
        state = self.read_state()
        project_ref = None
        if project_name is not None:
            project_ref = state.project_ref_for(project_name)
            if project_ref is None:
                return ()
        if run_id is not None:
            run_ref = str(state.resolve_run(run_id).run_ref)
            raw = state.repository.list_deployments(run_refs=[run_ref])
            if project_ref is not None:
                raw = [d for d in raw if str(d.project_ref) == project_ref]
        else:
            raw = state.repository.list_deployments(project_ref=project_ref)
        ordered = sorted(
            raw, key=lambda d: (instant_key(d.started_at), str(d.deployment_execution_ref))
        )
        return tuple(deployment_record(d, state.project_name(str(d.project_ref))) for d in ordered)

    def get_provenance(self, run_id: object) -> ProvenanceView | None:
        """Latest provenance of relations touching the run, its stages, artifacts, deployments."""
        state = self.read_state()
        run_ref = str(state.resolve_run(run_id).run_ref)
        cached = state.cached_snapshot(run_ref)
        if cached is not None:
            return cached.snapshot.provenance  # type: ignore[no-any-return]
        repo = state.repository
        scope = [run_ref]
        scope += [str(s.stage_execution_ref) for s in repo.list_stages([run_ref])]
        scope += [str(a.artifact_ref) for a in repo.list_artifacts([run_ref])]
        scope += [
            str(d.deployment_execution_ref) for d in repo.list_deployments(run_refs=[run_ref])
        ]
        relations = tuple(relation_record(e) for e in repo.list_relations_for_refs(scope))
        return latest_provenance(state, run_ref, relations, frozenset(scope))

    def get_artifact_origin(self, artifact_ref: object) -> RunSnapshot | None:
        """Snapshot of the run named in the artifact's manifest, or ``None`` if unknown."""
        if not isinstance(artifact_ref, str) and type(artifact_ref).__name__ != "StableRef":
            return None
        text = str(artifact_ref)
        state = self.read_state()
        if text.startswith("artifact:") and text.count(".") >= 2:
            run_ref = "run:" + text[len("artifact:") :].rpartition(".")[0]
            run = state.find_run(run_ref)
            if run is not None:
                manifests = state.repository.list_artifacts([run_ref])
                if any(str(m.artifact_ref) == text for m in manifests):
                    return build_bundle(state, run).snapshot
            return None
        suffix = "." + text
        matches = [
            m for m in state.repository.list_artifacts(None) if str(m.artifact_ref).endswith(suffix)
        ]
        if len(matches) != 1:
            return None
        run = state.find_run(str(matches[0].run_ref))
        return None if run is None else build_bundle(state, run).snapshot

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _stages(state: ReadState, run_ref: str) -> tuple[StageRecord, ...]:
        cached = state.cached_snapshot(run_ref)
        if cached is not None:
            return cached.snapshot.stages  # type: ignore[no-any-return]
        return tuple(stage_record(s) for s in state.repository.list_stages([run_ref]))


def _with_project(query: RunListQuery, project_name: str) -> RunListQuery:
    return replace(query, project_name=project_name)
