"""Build projects, runs, stages, batches and records for interpretation tests.

``Builder`` writes contract models either into the real stores of a ``Contexta`` (integration
tests on SQLite in tmp_path) or into ``InMemoryRepository`` (unit tests). Timestamps default
to a fixed day so tests are deterministic.
"""

from __future__ import annotations

from typing import Any

from tests.interpret.record_builders import RecordBuilder, day

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

_PUT = {
    "Project": ("projects", "put_project"),
    "Run": ("runs", "put_run"),
    "StageExecution": ("stages", "put_stage_execution"),
    "BatchExecution": ("batches", "put_batch_execution"),
    "SampleObservation": ("samples", "put_sample_observation"),
    "OperationContext": ("operations", "put_operation_context"),
    "DeploymentExecution": ("deployments", "put_deployment_execution"),
    "EnvironmentSnapshot": ("environments", "put_environment_snapshot"),
    "LineageEdge": ("relations", "put_relation"),
    "ProvenanceRecord": ("provenance", "put_provenance"),
}


class StoreTarget:
    """Writes through a ``Contexta``'s real stores."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def put(self, model: Any) -> Any:
        if isinstance(model, ArtifactManifest):
            raise TypeError("use Builder.artifact for manifests")
        repo_name, method = _PUT[type(model).__name__]
        return getattr(getattr(self.ctx.metadata_store, repo_name), method)(model)

    def append(self, record: Any) -> None:
        self.ctx.record_store.append(record)


class Builder(RecordBuilder):
    """Small factory of contract objects with sensible defaults."""

    def __init__(
        self, target: Any, project: str = "proj", *, tmp_path: Any = None, id_start: int = 1
    ) -> None:
        super().__init__(target, id_start=id_start)
        self.project = project
        self.tmp_path = tmp_path
        target.put(Project(project_ref=f"project:{project}", name=project, created_at=day(1, 0)))

    # -- context objects ------------------------------------------------------------------

    def run(
        self,
        name: str,
        *,
        started: str | None = None,
        status: str = "completed",
        ended: str | None = None,
        tags: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
        display: str | None = None,
    ) -> str:
        ref = f"run:{self.project}.{name}"
        started = started or day(1)
        if ended is None and status != "open":
            ended = started
        self.target.put(
            Run(
                run_ref=ref,
                project_ref=f"project:{self.project}",
                name=display or name,
                status=status,
                started_at=started,
                ended_at=ended,
                tags=tags,
                metadata=metadata,
            )
        )
        return ref

    def stage(
        self,
        run_ref: str,
        name: str,
        *,
        status: str = "completed",
        order: int | None = 0,
        started: str | None = None,
        ended: str | None = None,
    ) -> str:
        ref = f"stage:{run_ref[4:]}.{name}"
        started = started or day(1)
        if ended is None and status != "open":
            ended = started
        self.target.put(
            StageExecution(
                stage_execution_ref=ref,
                run_ref=run_ref,
                stage_name=name,
                status=status,
                started_at=started,
                ended_at=ended,
                order_index=order,
            )
        )
        return ref

    def batch(
        self,
        stage_ref: str,
        name: str,
        *,
        status: str = "completed",
        order: int | None = 0,
        started: str | None = None,
    ) -> str:
        ref = f"batch:{stage_ref[6:]}.{name}"
        run_ref = "run:" + ".".join(stage_ref[6:].split(".")[:2])
        started = started or day(1)
        self.target.put(
            BatchExecution(
                batch_execution_ref=ref,
                run_ref=run_ref,
                stage_execution_ref=stage_ref,
                batch_name=name,
                status=status,
                started_at=started,
                ended_at=None if status == "open" else started,
                order_index=order,
            )
        )
        return ref

    def sample(self, stage_ref: str, name: str, *, observed: str | None = None) -> str:
        ref = f"sample:{stage_ref[6:]}.{name}"
        run_ref = "run:" + ".".join(stage_ref[6:].split(".")[:2])
        self.target.put(
            SampleObservation(
                sample_observation_ref=ref,
                run_ref=run_ref,
                stage_execution_ref=stage_ref,
                sample_name=name,
                observed_at=observed or day(1),
            )
        )
        return ref

    def operation(self, stage_ref: str, name: str) -> str:
        ref = f"op:{stage_ref[6:]}.{name}"
        run_ref = "run:" + ".".join(stage_ref[6:].split(".")[:2])
        self.target.put(
            OperationContext(
                operation_context_ref=ref,
                run_ref=run_ref,
                stage_execution_ref=stage_ref,
                operation_name=name,
                observed_at=day(1),
            )
        )
        return ref

    def deployment(
        self,
        name: str,
        *,
        run_ref: str | None = None,
        status: str = "completed",
        started: str | None = None,
    ) -> str:
        ref = f"deployment:{self.project}.{name}"
        started = started or day(1)
        self.target.put(
            DeploymentExecution(
                deployment_execution_ref=ref,
                project_ref=f"project:{self.project}",
                deployment_name=name,
                status=status,
                started_at=started,
                ended_at=None if status == "open" else started,
                run_ref=run_ref,
            )
        )
        return ref

    def environment(
        self,
        run_ref: str,
        *,
        python: str = "3.11.7",
        platform: str = "linux",
        packages: dict[str, str] | None = None,
        variables: dict[str, str] | None = None,
        git_commit: str | None = None,
        captured: str | None = None,
        key: str = "runtime",
    ) -> str:
        ref = f"environment:{run_ref[4:]}.{key}"
        self.target.put(
            EnvironmentSnapshot(
                environment_snapshot_ref=ref,
                run_ref=run_ref,
                captured_at=captured or day(1),
                python_version=python,
                platform=platform,
                packages=packages,
                environment_variables=variables,
                hostname="host-a",
                git_commit=git_commit,
                git_dirty=False,
            )
        )
        return ref

    def relation(self, source: str, target: str, *, name: str, recorded: str | None = None) -> str:
        ref = f"relation:{self.project}.{name}"
        self.target.put(
            LineageEdge(
                relation_ref=ref,
                relation_type="produced_by",
                source_ref=source,
                target_ref=target,
                recorded_at=recorded or day(1),
                origin_marker="explicit",
                confidence_marker="high",
            )
        )
        return ref

    def provenance(
        self,
        relation_ref: str,
        *,
        name: str,
        asserted: str | None = None,
        formation: str | None = None,
    ) -> str:
        ref = f"provenance:{self.project}.{name}"
        self.target.put(
            ProvenanceRecord(
                provenance_ref=ref,
                relation_ref=relation_ref,
                assertion_mode="explicit",
                asserted_at=asserted or day(1),
                formation_context_ref=formation,
            )
        )
        return ref

    def artifact(
        self,
        run_ref: str,
        key: str,
        *,
        kind: str = "dataset_snapshot",
        body: bytes = b"data",
        stage_ref: str | None = None,
        created: str | None = None,
    ) -> str:
        ref = f"artifact:{run_ref[4:]}.{key}"
        manifest = ArtifactManifest(
            artifact_ref=ref,
            artifact_kind=kind,
            created_at=created or day(1),
            producer_ref="tests",
            run_ref=run_ref,
            location_ref=f"file://{key}",
            stage_execution_ref=stage_ref,
        )
        if isinstance(self.target, StoreTarget):
            source = self.tmp_path / f"{key}.bin"
            source.write_bytes(body)
            self.target.ctx.artifact_store.put_artifact(manifest, source)
        else:
            self.target.put(manifest)
        return ref


def nightly(
    builder: Builder,
    night: int,
    *,
    rows: float,
    null_rate: float,
    degraded: bool = False,
    status: str = "completed",
) -> str:
    """One run shaped like the seed's nightly ETL (stage ``fe``, batch ``b0``, two metrics)."""
    run = builder.run(f"night-{night:02d}", started=day(night), status=status)
    stage = builder.stage(run, "fe", started=day(night))
    batch = builder.batch(stage, "b0", started=day(night))
    builder.metric(
        run, "rows-processed", float(rows), stage=stage, batch=batch, observed=day(night, 2)
    )
    builder.metric(
        run, "feature-null-rate", null_rate, stage=stage, batch=batch, observed=day(night, 2)
    )
    if degraded:
        builder.degraded(
            run,
            "etl.feature_column_null_overflow",
            summary="all NULL",
            stage=stage,
            batch=batch,
            observed=day(night, 2),
        )
    return run
