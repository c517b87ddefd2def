"""The ten named repositories of ``MetadataStore`` (contract.md §4.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import case, or_, select

from contexta.contract import (
    BatchExecution,
    DeploymentExecution,
    EnvironmentSnapshot,
    LineageEdge,
    OperationContext,
    Project,
    ProvenanceRecord,
    Run,
    SampleObservation,
    StableRef,
    StageExecution,
)
from contexta.store.metadata.entities import ENTITIES, RELATION_ENDPOINT_TABLES, ParentCheck
from contexta.store.metadata.repository import Repository, coerce_ref
from contexta.store.sql import schema

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from contexta.store.sql.engine import Database

__all__ = [
    "BatchRepository",
    "DeploymentRepository",
    "EnvironmentRepository",
    "OperationRepository",
    "ProjectRepository",
    "ProvenanceRepository",
    "RelationRepository",
    "RunRepository",
    "SampleRepository",
    "StageRepository",
]


def _run_in(column: Any, run_refs: Sequence[object]) -> Any:
    refs = [coerce_ref(ref, "run", "run_refs") for ref in run_refs]
    return column.in_(refs)


def _nulls_last(column: Any) -> Any:
    return case((column.is_(None), 1), else_=0)


def _opt(value: object, kind: str, argument: str) -> str | None:
    return None if value is None else coerce_ref(value, kind, argument)


class ProjectRepository(Repository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["project"], on_write)

    def put_project(self, project: Project) -> Project:
        return self.put(project)

    def get_project(self, ref: object) -> Project:
        return self.get(ref)

    def find_project(self, ref: object) -> Project | None:
        return self.find(ref)

    def exists_project(self, ref: object) -> bool:
        return self.exists(ref)

    def list_projects(self) -> tuple[Project, ...]:
        t = schema.projects
        return self.list_where(order_by=(t.c.created_us, t.c.ref))


class RunRepository(Repository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["run"], on_write)

    def put_run(self, run: Run) -> Run:
        return self.put(run)

    def get_run(self, ref: object) -> Run:
        return self.get(ref)

    def find_run(self, ref: object) -> Run | None:
        return self.find(ref)

    def exists_run(self, ref: object) -> bool:
        return self.exists(ref)

    def list_runs(self, project_ref: object = None) -> tuple[Run, ...]:
        t = schema.runs
        where = []
        if project_ref is not None:
            where.append(t.c.project_ref == coerce_ref(project_ref, "project", "project_ref"))
        return self.list_where(*where, order_by=(t.c.project_ref, t.c.started_us, t.c.ref))


class DeploymentRepository(Repository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["deployment"], on_write)

    def put_deployment_execution(self, deployment: DeploymentExecution) -> DeploymentExecution:
        return self.put(deployment)

    def get_deployment_execution(self, ref: object) -> DeploymentExecution:
        return self.get(ref)

    def find_deployment_execution(self, ref: object) -> DeploymentExecution | None:
        return self.find(ref)

    def exists_deployment_execution(self, ref: object) -> bool:
        return self.exists(ref)

    def list_deployment_executions(
        self, project_ref: object = None, run_ref: object = None
    ) -> tuple[DeploymentExecution, ...]:
        t = schema.deployments
        where = []
        if project_ref is not None:
            where.append(t.c.project_ref == coerce_ref(project_ref, "project", "project_ref"))
        if run_ref is not None:
            where.append(t.c.run_ref == coerce_ref(run_ref, "run", "run_ref"))
        return self.list_where(*where, order_by=(t.c.started_us, t.c.ref))

    def list_deployment_executions_for_runs(
        self, run_refs: Sequence[object]
    ) -> tuple[DeploymentExecution, ...]:
        t = schema.deployments
        return self.list_where(
            _run_in(t.c.run_ref, run_refs), order_by=(t.c.run_ref, t.c.started_us, t.c.ref)
        )


class StageRepository(Repository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["stage"], on_write)

    def put_stage_execution(self, stage: StageExecution) -> StageExecution:
        return self.put(stage)

    def get_stage_execution(self, ref: object) -> StageExecution:
        return self.get(ref)

    def find_stage_execution(self, ref: object) -> StageExecution | None:
        return self.find(ref)

    def exists_stage_execution(self, ref: object) -> bool:
        return self.exists(ref)

    def list_stage_executions(self, run_ref: object) -> tuple[StageExecution, ...]:
        t = schema.stages
        return self.list_where(
            t.c.run_ref == coerce_ref(run_ref, "run", "run_ref"),
            order_by=(_nulls_last(t.c.order_index), t.c.order_index, t.c.started_us, t.c.ref),
        )

    def list_stage_executions_for_runs(
        self, run_refs: Sequence[object]
    ) -> tuple[StageExecution, ...]:
        """Stages of many runs in one query, grouped by run in the per-run order."""
        t = schema.stages
        return self.list_where(
            _run_in(t.c.run_ref, run_refs),
            order_by=(
                t.c.run_ref,
                _nulls_last(t.c.order_index),
                t.c.order_index,
                t.c.started_us,
                t.c.ref,
            ),
        )


class BatchRepository(Repository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["batch"], on_write)

    def put_batch_execution(self, batch: BatchExecution) -> BatchExecution:
        return self.put(batch)

    def get_batch_execution(self, ref: object) -> BatchExecution:
        return self.get(ref)

    def find_batch_execution(self, ref: object) -> BatchExecution | None:
        return self.find(ref)

    def exists_batch_execution(self, ref: object) -> bool:
        return self.exists(ref)

    def list_batch_executions_for_runs(
        self, run_refs: Sequence[object]
    ) -> tuple[BatchExecution, ...]:
        """Batches of many runs in one query, grouped by run in the per-run order."""
        return self._list_batches([_run_in(schema.batches.c.run_ref, run_refs)], by_run=True)

    def list_batch_executions(
        self, run_ref: object = None, stage_ref: object = None
    ) -> tuple[BatchExecution, ...]:
        t = schema.batches
        where = []
        if run_ref is not None:
            where.append(t.c.run_ref == coerce_ref(run_ref, "run", "run_ref"))
        if stage_ref is not None:
            where.append(t.c.stage_ref == coerce_ref(stage_ref, "stage", "stage_ref"))
        return self._list_batches(where, by_run=False)

    def _list_batches(self, where: list[Any], *, by_run: bool) -> tuple[BatchExecution, ...]:
        t, s = schema.batches, schema.stages
        stage_order = select(s.c.order_index).where(s.c.ref == t.c.stage_ref).scalar_subquery()
        first = (t.c.run_ref,) if by_run else ()
        return self.list_where(
            *where,
            order_by=(
                *first,
                _nulls_last(stage_order),
                stage_order,
                t.c.stage_ref,
                _nulls_last(t.c.order_index),
                t.c.order_index,
                t.c.started_us,
                t.c.ref,
            ),
        )


class _ObservationRepository(Repository):
    def _list(self, run_ref: object, stage_ref: object, batch_ref: object) -> tuple[Any, ...]:
        t = self._spec.table
        where = []
        if run_ref is not None:
            where.append(t.c.run_ref == coerce_ref(run_ref, "run", "run_ref"))
        if stage_ref is not None:
            where.append(t.c.stage_ref == coerce_ref(stage_ref, "stage", "stage_ref"))
        if batch_ref is not None:
            where.append(t.c.batch_ref == coerce_ref(batch_ref, "batch", "batch_ref"))
        return self.list_where(*where, order_by=(t.c.observed_us, t.c.ref))

    def _list_for_runs(self, run_refs: Sequence[object]) -> tuple[Any, ...]:
        t = self._spec.table
        return self.list_where(
            _run_in(t.c.run_ref, run_refs), order_by=(t.c.run_ref, t.c.observed_us, t.c.ref)
        )


class SampleRepository(_ObservationRepository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["sample"], on_write)

    def put_sample_observation(self, sample: SampleObservation) -> SampleObservation:
        return self.put(sample)

    def get_sample_observation(self, ref: object) -> SampleObservation:
        return self.get(ref)

    def find_sample_observation(self, ref: object) -> SampleObservation | None:
        return self.find(ref)

    def exists_sample_observation(self, ref: object) -> bool:
        return self.exists(ref)

    def list_sample_observations(
        self, run_ref: object = None, stage_ref: object = None, batch_ref: object = None
    ) -> tuple[SampleObservation, ...]:
        return self._list(run_ref, stage_ref, batch_ref)

    def list_sample_observations_for_runs(
        self, run_refs: Sequence[object]
    ) -> tuple[SampleObservation, ...]:
        return self._list_for_runs(run_refs)


class OperationRepository(_ObservationRepository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["operation"], on_write)

    def put_operation_context(self, operation: OperationContext) -> OperationContext:
        return self.put(operation)

    def get_operation_context(self, ref: object) -> OperationContext:
        return self.get(ref)

    def find_operation_context(self, ref: object) -> OperationContext | None:
        return self.find(ref)

    def exists_operation_context(self, ref: object) -> bool:
        return self.exists(ref)

    def list_operation_contexts(
        self, run_ref: object = None, stage_ref: object = None, batch_ref: object = None
    ) -> tuple[OperationContext, ...]:
        return self._list(run_ref, stage_ref, batch_ref)

    def list_operation_contexts_for_runs(
        self, run_refs: Sequence[object]
    ) -> tuple[OperationContext, ...]:
        return self._list_for_runs(run_refs)


class EnvironmentRepository(Repository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["environment"], on_write)

    def put_environment_snapshot(self, snapshot: EnvironmentSnapshot) -> EnvironmentSnapshot:
        return self.put(snapshot)

    def get_environment_snapshot(self, ref: object) -> EnvironmentSnapshot:
        return self.get(ref)

    def find_environment_snapshot(self, ref: object) -> EnvironmentSnapshot | None:
        return self.find(ref)

    def exists_environment_snapshot(self, ref: object) -> bool:
        return self.exists(ref)

    def list_environment_snapshots(self, run_ref: object) -> tuple[EnvironmentSnapshot, ...]:
        t = schema.environments
        return self.list_where(
            t.c.run_ref == coerce_ref(run_ref, "run", "run_ref"),
            order_by=(t.c.captured_us, t.c.ref),
        )

    def list_environment_snapshots_for_runs(
        self, run_refs: Sequence[object]
    ) -> tuple[EnvironmentSnapshot, ...]:
        t = schema.environments
        return self.list_where(
            _run_in(t.c.run_ref, run_refs), order_by=(t.c.run_ref, t.c.captured_us, t.c.ref)
        )


class RelationRepository(Repository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["relation"], on_write)

    def _extra_parent_checks(self, cur: Any, edge: LineageEdge) -> None:
        for attribute, code in (
            ("source_ref", "metadata_missing_relation_source"),
            ("target_ref", "metadata_missing_relation_target"),
        ):
            ref: StableRef = getattr(edge, attribute)
            table = RELATION_ENDPOINT_TABLES.get(ref.kind)
            if table is not None:
                self._require(cur, ParentCheck(attribute, table, code), ref)

    def put_relation(self, edge: LineageEdge) -> LineageEdge:
        return self.put(edge)

    def get_relation(self, ref: object) -> LineageEdge:
        return self.get(ref)

    def find_relation(self, ref: object) -> LineageEdge | None:
        return self.find(ref)

    def exists_relation(self, ref: object) -> bool:
        return self.exists(ref)

    def list_relations_for_ref(self, ref: object) -> tuple[LineageEdge, ...]:
        t = schema.relations
        text = coerce_ref(ref, None)
        return self.list_where(
            or_(t.c.source_ref == text, t.c.target_ref == text), order_by=(t.c.ref,)
        )

    def list_relations_for_source(self, ref: object) -> tuple[LineageEdge, ...]:
        t = schema.relations
        return self.list_where(t.c.source_ref == coerce_ref(ref, None), order_by=(t.c.ref,))

    def list_relations_for_target(self, ref: object) -> tuple[LineageEdge, ...]:
        t = schema.relations
        return self.list_where(t.c.target_ref == coerce_ref(ref, None), order_by=(t.c.ref,))

    def list_relations_touching(self, refs: list[str]) -> tuple[LineageEdge, ...]:
        """Relations with either end in ``refs`` (one query; used by snapshots)."""
        if not refs:
            return ()
        t = schema.relations
        return self.list_where(
            or_(t.c.source_ref.in_(refs), t.c.target_ref.in_(refs)), order_by=(t.c.ref,)
        )


class ProvenanceRepository(Repository):
    def __init__(self, db: Database, on_write: Callable[[], None]) -> None:
        super().__init__(db, ENTITIES["provenance"], on_write)

    def put_provenance(self, record: ProvenanceRecord) -> ProvenanceRecord:
        return self.put(record)

    def get_provenance(self, ref: object) -> ProvenanceRecord:
        return self.get(ref)

    def find_provenance(self, ref: object) -> ProvenanceRecord | None:
        return self.find(ref)

    def exists_provenance(self, ref: object) -> bool:
        return self.exists(ref)

    def list_provenance_for_relation(self, relation_ref: object) -> tuple[ProvenanceRecord, ...]:
        t = schema.provenance
        return self.list_where(
            t.c.relation_ref == coerce_ref(relation_ref, "relation", "relation_ref"),
            order_by=(t.c.asserted_us, t.c.ref),
        )

    def list_provenance_for_relations(
        self, relation_refs: Sequence[object]
    ) -> tuple[ProvenanceRecord, ...]:
        if not relation_refs:
            return ()
        t = schema.provenance
        refs = [coerce_ref(ref, "relation", "relation_refs") for ref in relation_refs]
        return self.list_where(t.c.relation_ref.in_(refs), order_by=(t.c.asserted_us, t.c.ref))
