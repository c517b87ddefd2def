"""Store-level snapshot of one run's contract objects (contract.md §4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contexta.store.metadata.repository import coerce_ref

if TYPE_CHECKING:
    from contexta.store.metadata.store import MetadataStore

__all__ = ["RunSnapshot", "build_run_snapshot"]


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """The run and the metadata attached to it, as contract models.

    Not the same class as ``contexta.interpretation.RunSnapshot``, which is a
    read model with records and diagnostics-ready projections.
    """

    project: Any
    run: Any
    deployments: tuple[Any, ...] = ()
    stages: tuple[Any, ...] = ()
    batches: tuple[Any, ...] = ()
    samples: tuple[Any, ...] = ()
    environments: tuple[Any, ...] = ()
    relations: tuple[Any, ...] = ()
    provenance: tuple[Any, ...] = ()
    scoped_refs: tuple[str, ...] = ()
    completeness_notes: tuple[str, ...] = ()


def build_run_snapshot(store: MetadataStore, run_ref: object) -> RunSnapshot:
    ref = coerce_ref(run_ref, "run", "run_ref")
    run = store.runs.get_run(ref)
    project = store.projects.find_project(run.project_ref)
    deployments = store.deployments.list_deployment_executions(run_ref=ref)
    stages = store.stages.list_stage_executions(ref)
    batches = store.batches.list_batch_executions(run_ref=ref)
    samples = store.samples.list_sample_observations(run_ref=ref)
    environments = store.environments.list_environment_snapshots(ref)
    scoped = [ref]
    scoped += [str(d.deployment_execution_ref) for d in deployments]
    scoped += [str(s.stage_execution_ref) for s in stages]
    scoped += [str(b.batch_execution_ref) for b in batches]
    scoped += [str(s.sample_observation_ref) for s in samples]
    relations = store.relations.list_relations_touching(scoped)
    provenance: list[Any] = []
    for edge in relations:
        provenance.extend(store.provenance.list_provenance_for_relation(edge.relation_ref))
    notes = []
    if not stages:
        notes.append("stage_list_empty")
    if not deployments:
        notes.append("deployment_list_empty")
    if stages and not batches:
        notes.append("batch_list_empty")
    if not relations:
        notes.append("relation_scope_empty")
    if not provenance:
        notes.append("provenance_missing")
    return RunSnapshot(
        project=project,
        run=run,
        deployments=deployments,
        stages=stages,
        batches=batches,
        samples=samples,
        environments=environments,
        relations=relations,
        provenance=tuple(provenance),
        scoped_refs=tuple(scoped),
        completeness_notes=tuple(notes),
    )
