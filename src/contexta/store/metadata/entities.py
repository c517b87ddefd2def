"""How each metadata model maps onto its table: hot columns, parents, update rule.

One ``EntitySpec`` per model keeps the per-entity facts in one place, so the
repository code below is written once for all ten repositories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from contexta import contract as c
from contexta.contract.timestamps import timestamp_to_micros
from contexta.store.metadata.updates import UpdateRule
from contexta.store.sql import schema

__all__ = ["ENTITIES", "EntitySpec", "ParentCheck"]


@dataclass(frozen=True, slots=True)
class ParentCheck:
    """A parent that must exist: model attribute, parent table, error code."""

    attribute: str
    table: Table
    code: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class EntitySpec:
    name: str  # human name used in messages, e.g. "run"
    kind: str  # ref kind
    table: Table
    model: type
    ref_attr: str
    deserialize: Callable[[Any], Any]
    columns: Callable[[Any], dict[str, Any]]
    parents: tuple[ParentCheck, ...]
    rule: UpdateRule


def _txt(ref: Any) -> str | None:
    return None if ref is None else str(ref)


_STATUS = frozenset({"status", "ended_at"})

PROJECT = EntitySpec(
    name="project",
    kind="project",
    table=schema.projects,
    model=c.Project,
    ref_attr="project_ref",
    deserialize=c.deserialize_project,
    columns=lambda m: {"name": m.name, "created_us": timestamp_to_micros(m.created_at)},
    parents=(),
    rule=UpdateRule(mutable=frozenset({"description", "tags"})),
)

RUN = EntitySpec(
    name="run",
    kind="run",
    table=schema.runs,
    model=c.Run,
    ref_attr="run_ref",
    deserialize=c.deserialize_run,
    columns=lambda m: {
        "project_ref": str(m.project_ref),
        "name": m.name,
        "status": m.status,
        "started_us": timestamp_to_micros(m.started_at),
        "ended_us": None if m.ended_at is None else timestamp_to_micros(m.ended_at),
    },
    parents=(ParentCheck("project_ref", schema.projects, "metadata_missing_run_project"),),
    rule=UpdateRule(mutable=frozenset({"description", "tags", "metadata"}), has_status=True),
)

DEPLOYMENT = EntitySpec(
    name="deployment",
    kind="deployment",
    table=schema.deployments,
    model=c.DeploymentExecution,
    ref_attr="deployment_execution_ref",
    deserialize=c.deserialize_deployment_execution,
    columns=lambda m: {
        "project_ref": str(m.project_ref),
        "run_ref": _txt(m.run_ref),
        "started_us": timestamp_to_micros(m.started_at),
    },
    parents=(
        ParentCheck("project_ref", schema.projects, "metadata_missing_deployment_project"),
        ParentCheck("run_ref", schema.runs, "metadata_missing_deployment_run", optional=True),
    ),
    rule=UpdateRule(
        mutable=frozenset({"metadata"}),
        fill_once=frozenset({"order_index", "run_ref", "artifact_ref", "environment_snapshot_ref"}),
        has_status=True,
    ),
)

STAGE = EntitySpec(
    name="stage",
    kind="stage",
    table=schema.stages,
    model=c.StageExecution,
    ref_attr="stage_execution_ref",
    deserialize=c.deserialize_stage_execution,
    columns=lambda m: {
        "run_ref": str(m.run_ref),
        "name": m.stage_name,
        "order_index": m.order_index,
        "started_us": timestamp_to_micros(m.started_at),
    },
    parents=(ParentCheck("run_ref", schema.runs, "metadata_missing_stage_run"),),
    rule=UpdateRule(
        mutable=frozenset({"metadata"}), fill_once=frozenset({"order_index"}), has_status=True
    ),
)

BATCH = EntitySpec(
    name="batch",
    kind="batch",
    table=schema.batches,
    model=c.BatchExecution,
    ref_attr="batch_execution_ref",
    deserialize=c.deserialize_batch_execution,
    columns=lambda m: {
        "run_ref": str(m.run_ref),
        "stage_ref": str(m.stage_execution_ref),
        "order_index": m.order_index,
        "started_us": timestamp_to_micros(m.started_at),
    },
    parents=(
        ParentCheck("run_ref", schema.runs, "metadata_missing_batch_run"),
        ParentCheck("stage_execution_ref", schema.stages, "metadata_missing_batch_stage"),
    ),
    rule=UpdateRule(
        mutable=frozenset({"metadata"}), fill_once=frozenset({"order_index"}), has_status=True
    ),
)


def _observation(
    name: str, kind: str, table: Table, model: type, ref_attr: str, des: Any
) -> EntitySpec:
    return EntitySpec(
        name=name,
        kind=kind,
        table=table,
        model=model,
        ref_attr=ref_attr,
        deserialize=des,
        columns=lambda m: {
            "run_ref": str(m.run_ref),
            "stage_ref": str(m.stage_execution_ref),
            "batch_ref": _txt(m.batch_execution_ref),
            "observed_us": timestamp_to_micros(m.observed_at),
        },
        parents=(
            ParentCheck("run_ref", schema.runs, f"metadata_missing_{name}_run"),
            ParentCheck("stage_execution_ref", schema.stages, f"metadata_missing_{name}_stage"),
            ParentCheck(
                "batch_execution_ref",
                schema.batches,
                f"metadata_missing_{name}_batch",
                optional=True,
            ),
        ),
        rule=UpdateRule(),
    )


SAMPLE = _observation(
    "sample",
    "sample",
    schema.samples,
    c.SampleObservation,
    "sample_observation_ref",
    c.deserialize_sample_observation,
)
OPERATION = _observation(
    "operation",
    "op",
    schema.operations,
    c.OperationContext,
    "operation_context_ref",
    c.deserialize_operation_context,
)

ENVIRONMENT = EntitySpec(
    name="environment",
    kind="environment",
    table=schema.environments,
    model=c.EnvironmentSnapshot,
    ref_attr="environment_snapshot_ref",
    deserialize=c.deserialize_environment_snapshot,
    columns=lambda m: {
        "run_ref": str(m.run_ref),
        "captured_us": timestamp_to_micros(m.captured_at),
    },
    parents=(ParentCheck("run_ref", schema.runs, "metadata_missing_environment_run"),),
    rule=UpdateRule(),
)

RELATION = EntitySpec(
    name="relation",
    kind="relation",
    table=schema.relations,
    model=c.LineageEdge,
    ref_attr="relation_ref",
    deserialize=c.deserialize_lineage_edge,
    columns=lambda m: {"source_ref": str(m.source_ref), "target_ref": str(m.target_ref)},
    parents=(),  # endpoints are checked by kind in the repository
    rule=UpdateRule(),
)

PROVENANCE = EntitySpec(
    name="provenance",
    kind="provenance",
    table=schema.provenance,
    model=c.ProvenanceRecord,
    ref_attr="provenance_ref",
    deserialize=c.deserialize_provenance_record,
    columns=lambda m: {
        "relation_ref": str(m.relation_ref),
        "asserted_us": timestamp_to_micros(m.asserted_at),
    },
    parents=(
        ParentCheck("relation_ref", schema.relations, "metadata_missing_provenance_relation"),
    ),
    rule=UpdateRule(),
)

ENTITIES = {
    spec.name: spec
    for spec in (
        PROJECT,
        RUN,
        DEPLOYMENT,
        STAGE,
        BATCH,
        SAMPLE,
        OPERATION,
        ENVIRONMENT,
        RELATION,
        PROVENANCE,
    )
}

# Relation endpoints of these kinds must exist (contract.md §4.2.1); any other
# kind is an external or forward reference.
RELATION_ENDPOINT_TABLES: dict[str, Table] = {
    "project": schema.projects,
    "run": schema.runs,
    "deployment": schema.deployments,
    "stage": schema.stages,
    "batch": schema.batches,
    "sample": schema.samples,
}
