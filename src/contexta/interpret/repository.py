"""Read access for the interpretation layer: reader protocols and the store-backed repository.

Services depend only on the protocols below (contract §2.8 names them), so tests can pass an
in-memory fake and a future remote backend can implement them. Every method that reads data
for runs takes a *sequence* of run refs: services ask for many runs in one set-based call and
never issue one query per run in a loop (architecture §3, contract §4.3).

``CompositeStoreRepository`` adapts the three workspace stores. It uses the stores' fast
internal helpers (``iter_rows``, ``data_version``, ``list_manifests``) and the contract
repositories' list methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from contexta.contract import (
        ArtifactManifest,
        BatchExecution,
        DeploymentExecution,
        EnvironmentSnapshot,
        LineageEdge,
        OperationContext,
        Project,
        ProvenanceRecord,
        Run,
        SampleObservation,
        StageExecution,
    )

__all__ = [
    "ArtifactStoreReader",
    "CompositeRepository",
    "CompositeStoreRepository",
    "ObservabilityRepository",
    "RecordRowLike",
    "RecordStoreReader",
    "RelationStoreReader",
    "RunStoreReader",
]


class RecordRowLike(Protocol):
    """The hot columns of one stored record (``contexta.store.records.RecordRow``)."""

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


@runtime_checkable
class RunStoreReader(Protocol):
    """Projects, runs and everything the metadata plane holds per run."""

    def data_version(self) -> int:
        """A number that changes whenever any plane was written (cache key)."""
        ...

    def list_projects(self) -> Sequence[Project]: ...

    def list_runs(self, project_ref: str | None = None) -> Sequence[Run]:
        """Runs ordered by project, ``started_at`` instant, ref."""
        ...

    def find_run(self, run_ref: str) -> Run | None: ...

    def list_stages(self, run_refs: Sequence[str]) -> Sequence[StageExecution]:
        """Stages of the runs, each run's in contract order (order_index, started_at, ref)."""
        ...

    def list_batches(self, run_refs: Sequence[str]) -> Sequence[BatchExecution]: ...

    def list_samples(self, run_refs: Sequence[str]) -> Sequence[SampleObservation]: ...

    def list_operations(self, run_refs: Sequence[str]) -> Sequence[OperationContext]: ...

    def list_deployments(
        self, *, project_ref: str | None = None, run_refs: Sequence[str] | None = None
    ) -> Sequence[DeploymentExecution]: ...

    def existing_refs(self, refs: Sequence[str]) -> frozenset[str]:
        """The subset of stage/batch/sample/op/deployment refs that exist."""
        ...

    def list_environments(self, run_refs: Sequence[str]) -> Sequence[EnvironmentSnapshot]: ...


@runtime_checkable
class RecordStoreReader(Protocol):
    """Record rows, streamed in sequence order."""

    def iter_record_rows(
        self,
        *,
        run_refs: Sequence[str] | None = None,
        record_type: str | None = None,
        metric_key: str | None = None,
        stage_ref: str | None = None,
    ) -> Iterable[RecordRowLike]: ...


@runtime_checkable
class ArtifactStoreReader(Protocol):
    def list_artifacts(self, run_refs: Sequence[str] | None) -> Sequence[ArtifactManifest]:
        """Manifests naming the runs (every manifest for ``None``), by ``created_at``, ref."""
        ...


@runtime_checkable
class RelationStoreReader(Protocol):
    def list_relations_for_refs(self, refs: Sequence[str]) -> Sequence[LineageEdge]:
        """Relations with either end in ``refs``, each once, by ref."""
        ...

    def list_provenance_for_relations(
        self, relation_refs: Sequence[str]
    ) -> Sequence[ProvenanceRecord]: ...


@runtime_checkable
class ObservabilityRepository(RunStoreReader, RecordStoreReader, Protocol):
    """Metadata plus records: enough for queries and diagnostics without artifacts."""


@runtime_checkable
class CompositeRepository(
    ObservabilityRepository, ArtifactStoreReader, RelationStoreReader, Protocol
):
    """Everything the interpretation services read."""


class CompositeStoreRepository:
    """The repository over a workspace's metadata, record and artifact stores."""

    def __init__(self, metadata_store: Any, record_store: Any, artifact_store: Any) -> None:
        self.metadata_store = metadata_store
        self.record_store = record_store
        self.artifact_store = artifact_store

    # -- versions ---------------------------------------------------------------------------

    def data_version(self) -> int:
        store = self.record_store if self.record_store is not None else self.metadata_store
        return int(store.data_version())

    # -- metadata ---------------------------------------------------------------------------

    def list_projects(self) -> Sequence[Project]:
        return tuple(self.metadata_store.projects.list_projects())

    def list_runs(self, project_ref: str | None = None) -> Sequence[Run]:
        return tuple(self.metadata_store.runs.list_runs(project_ref))

    def find_run(self, run_ref: str) -> Run | None:
        return self.metadata_store.runs.find_run(run_ref)  # type: ignore[no-any-return]

    def list_stages(self, run_refs: Sequence[str]) -> Sequence[StageExecution]:
        repo = self.metadata_store.stages
        bulk = getattr(repo, "list_stage_executions_for_runs", None)
        if bulk is not None:
            return tuple(bulk(run_refs))
        return _concat(repo.list_stage_executions(ref) for ref in run_refs)

    def list_batches(self, run_refs: Sequence[str]) -> Sequence[BatchExecution]:
        repo = self.metadata_store.batches
        bulk = getattr(repo, "list_batch_executions_for_runs", None)
        if bulk is not None:
            return tuple(bulk(run_refs))
        return _concat(repo.list_batch_executions(run_ref=ref) for ref in run_refs)

    def list_samples(self, run_refs: Sequence[str]) -> Sequence[SampleObservation]:
        repo = self.metadata_store.samples
        bulk = getattr(repo, "list_sample_observations_for_runs", None)
        if bulk is not None:
            return tuple(bulk(run_refs))
        return _concat(repo.list_sample_observations(run_ref=ref) for ref in run_refs)

    def list_operations(self, run_refs: Sequence[str]) -> Sequence[OperationContext]:
        repo = getattr(self.metadata_store, "operations", None)
        if repo is None:
            return ()
        bulk = getattr(repo, "list_operation_contexts_for_runs", None)
        if bulk is not None:
            return tuple(bulk(run_refs))
        return _concat(repo.list_operation_contexts(run_ref=ref) for ref in run_refs)

    def list_deployments(
        self, *, project_ref: str | None = None, run_refs: Sequence[str] | None = None
    ) -> Sequence[DeploymentExecution]:
        repo = self.metadata_store.deployments
        if run_refs is None:
            return tuple(repo.list_deployment_executions(project_ref=project_ref))
        bulk = getattr(repo, "list_deployment_executions_for_runs", None)
        if bulk is not None:
            return tuple(bulk(run_refs))
        return _concat(repo.list_deployment_executions(run_ref=ref) for ref in run_refs)

    def existing_refs(self, refs: Sequence[str]) -> frozenset[str]:
        found: set[str] = set()
        store = self.metadata_store
        checks = {
            "stage": store.stages.exists_stage_execution,
            "batch": store.batches.exists_batch_execution,
            "sample": store.samples.exists_sample_observation,
            "deployment": store.deployments.exists_deployment_execution,
        }
        operations = getattr(store, "operations", None)
        if operations is not None:
            checks["op"] = operations.exists_operation_context
        for ref in refs:
            check = checks.get(ref.partition(":")[0])
            if check is not None and check(ref):
                found.add(ref)
        return frozenset(found)

    def list_environments(self, run_refs: Sequence[str]) -> Sequence[EnvironmentSnapshot]:
        repo = self.metadata_store.environments
        bulk = getattr(repo, "list_environment_snapshots_for_runs", None)
        if bulk is not None:
            return tuple(bulk(run_refs))
        return _concat(repo.list_environment_snapshots(ref) for ref in run_refs)

    # -- records ----------------------------------------------------------------------------

    def iter_record_rows(
        self,
        *,
        run_refs: Sequence[str] | None = None,
        record_type: str | None = None,
        metric_key: str | None = None,
        stage_ref: str | None = None,
    ) -> Iterator[RecordRowLike]:
        return iter(
            self.record_store.iter_rows(
                run_refs=None if run_refs is None else list(run_refs),
                record_type=record_type,
                metric_key=metric_key,
                stage_ref=stage_ref,
            )
        )

    # -- artifacts and relations ------------------------------------------------------------

    def list_artifacts(self, run_refs: Sequence[str] | None) -> Sequence[ArtifactManifest]:
        if self.artifact_store is None:
            return ()
        if run_refs is None:
            return tuple(self.artifact_store.list_manifests())
        bulk = getattr(self.artifact_store, "list_manifests_for_runs", None)
        if bulk is not None:
            return tuple(bulk(list(run_refs)))
        return _concat(self.artifact_store.list_manifests(run_ref=ref) for ref in run_refs)

    def list_relations_for_refs(self, refs: Sequence[str]) -> Sequence[LineageEdge]:
        repo = self.metadata_store.relations
        bulk = getattr(repo, "list_relations_touching", None)
        if bulk is not None:
            return tuple(bulk(list(refs)))
        seen: dict[str, LineageEdge] = {}
        for ref in refs:
            for edge in repo.list_relations_for_ref(ref):
                seen.setdefault(str(edge.relation_ref), edge)
        return tuple(seen[key] for key in sorted(seen))

    def list_provenance_for_relations(
        self, relation_refs: Sequence[str]
    ) -> Sequence[ProvenanceRecord]:
        repo = self.metadata_store.provenance
        bulk = getattr(repo, "list_provenance_for_relations", None)
        if bulk is not None:
            return tuple(bulk(list(relation_refs)))
        return _concat(repo.list_provenance_for_relation(ref) for ref in relation_refs)


def _concat(parts: Iterable[Iterable[Any]]) -> tuple[Any, ...]:
    out: list[Any] = []
    for part in parts:
        out.extend(part)
    return tuple(out)
