"""``InMemoryRepository``: a fake of the interpretation reader protocols (not a mock).

It keeps contract models in lists and serves them with the same ordering promises as the
store, so services can be tested without SQLite. It also counts calls per method, which the
scaling tests use to prove that a loop over N runs does not query once per run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from contexta.contract import to_json
from contexta.interpret.instants import instant_key


class FakeRow(NamedTuple):
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


def _text(ref: object) -> str | None:
    return None if ref is None else str(ref)


def row_from_record(sequence: int, record: Any) -> FakeRow:
    env, payload = record.envelope, record.payload
    kind = env.record_type
    value = step = severity = None
    if kind == "metric":
        key, value, step = payload.metric_key, payload.value, payload.step
    elif kind == "event":
        key, severity = payload.event_key, payload.level
    elif kind == "span":
        key, value = payload.span_name, payload.duration_ms
    else:
        key, severity = payload.issue_key, payload.severity
    return FakeRow(
        sequence,
        str(env.record_ref),
        kind,
        str(env.run_ref),
        _text(env.stage_execution_ref),
        _text(env.batch_execution_ref),
        _text(env.sample_observation_ref),
        _text(env.operation_context_ref),
        _text(env.deployment_execution_ref),
        key,
        value,
        step,
        env.observed_at,
        env.recorded_at,
        env.completeness_marker,
        env.degradation_marker,
        env.producer_ref,
        severity,
        to_json(record),
    )


_MODEL_LISTS = {
    "Project": "projects",
    "Run": "runs",
    "StageExecution": "stages",
    "BatchExecution": "batches",
    "SampleObservation": "samples",
    "OperationContext": "operations",
    "DeploymentExecution": "deployments",
    "EnvironmentSnapshot": "environments",
    "LineageEdge": "relations",
    "ProvenanceRecord": "provenance",
    "ArtifactManifest": "artifacts",
}
_REF_FIELD = {
    "projects": "project_ref",
    "runs": "run_ref",
    "stages": "stage_execution_ref",
    "batches": "batch_execution_ref",
    "samples": "sample_observation_ref",
    "operations": "operation_context_ref",
    "deployments": "deployment_execution_ref",
    "environments": "environment_snapshot_ref",
    "relations": "relation_ref",
    "provenance": "provenance_ref",
    "artifacts": "artifact_ref",
}


class InMemoryRepository:
    """Implements ``CompositeRepository`` over plain lists."""

    def __init__(self) -> None:
        self.lists: dict[str, list[Any]] = {name: [] for name in _REF_FIELD}
        self.rows: list[FakeRow] = []
        self.version = 0
        self.calls: Counter[str] = Counter()
        self.record_fetch_sizes: list[int | None] = []

    # -- writing (test setup) -----------------------------------------------------------------

    def put(self, model: Any) -> Any:
        name = _MODEL_LISTS[type(model).__name__]
        items = self.lists[name]
        ref_field = _REF_FIELD[name]
        ref = str(getattr(model, ref_field))
        for index, item in enumerate(items):
            if str(getattr(item, ref_field)) == ref:
                items[index] = model
                break
        else:
            items.append(model)
        self.version += 1
        return model

    def append(self, record: Any) -> None:
        self.rows.append(row_from_record(len(self.rows) + 1, record))
        self.version += 1

    # -- protocol -------------------------------------------------------------------------------

    def data_version(self) -> int:
        self.calls["data_version"] += 1
        return self.version

    def list_projects(self) -> Sequence[Any]:
        self.calls["list_projects"] += 1
        return sorted(
            self.lists["projects"], key=lambda p: (instant_key(p.created_at), str(p.project_ref))
        )

    def list_runs(self, project_ref: str | None = None) -> Sequence[Any]:
        self.calls["list_runs"] += 1
        runs = [
            r
            for r in self.lists["runs"]
            if project_ref is None or str(r.project_ref) == project_ref
        ]
        return sorted(
            runs, key=lambda r: (str(r.project_ref), instant_key(r.started_at), str(r.run_ref))
        )

    def find_run(self, run_ref: str) -> Any | None:
        self.calls["find_run"] += 1
        return next((r for r in self.lists["runs"] if str(r.run_ref) == run_ref), None)

    def _by_run(self, name: str, run_refs: Sequence[str]) -> list[Any]:
        self.calls[f"list_{name}"] += 1
        wanted = set(run_refs)
        return [item for item in self.lists[name] if str(item.run_ref) in wanted]

    def list_stages(self, run_refs: Sequence[str]) -> Sequence[Any]:
        return self._by_run("stages", run_refs)

    def list_batches(self, run_refs: Sequence[str]) -> Sequence[Any]:
        return self._by_run("batches", run_refs)

    def list_samples(self, run_refs: Sequence[str]) -> Sequence[Any]:
        return self._by_run("samples", run_refs)

    def list_operations(self, run_refs: Sequence[str]) -> Sequence[Any]:
        return self._by_run("operations", run_refs)

    def list_environments(self, run_refs: Sequence[str]) -> Sequence[Any]:
        return self._by_run("environments", run_refs)

    def list_deployments(
        self, *, project_ref: str | None = None, run_refs: Sequence[str] | None = None
    ) -> Sequence[Any]:
        self.calls["list_deployments"] += 1
        wanted = None if run_refs is None else set(run_refs)
        return [
            d
            for d in self.lists["deployments"]
            if (project_ref is None or str(d.project_ref) == project_ref)
            and (wanted is None or str(d.run_ref) in wanted)
        ]

    def existing_refs(self, refs: Sequence[str]) -> frozenset[str]:
        self.calls["existing_refs"] += 1
        known = {
            str(getattr(item, _REF_FIELD[name]))
            for name in ("stages", "batches", "samples", "operations", "deployments")
            for item in self.lists[name]
        }
        return frozenset(ref for ref in refs if ref in known)

    def iter_record_rows(
        self,
        *,
        run_refs: Sequence[str] | None = None,
        record_type: str | None = None,
        metric_key: str | None = None,
        stage_ref: str | None = None,
    ) -> Iterator[FakeRow]:
        self.calls["iter_record_rows"] += 1
        self.record_fetch_sizes.append(None if run_refs is None else len(run_refs))
        wanted = None if run_refs is None else set(run_refs)
        for row in self.rows:
            if (
                (wanted is None or row.run_ref in wanted)
                and (record_type is None or row.record_type == record_type)
                and (metric_key is None or row.key == metric_key)
                and (stage_ref is None or row.stage_ref == stage_ref)
            ):
                yield row

    def list_artifacts(self, run_refs: Sequence[str] | None) -> Sequence[Any]:
        self.calls["list_artifacts"] += 1
        wanted = None if run_refs is None else set(run_refs)
        return [a for a in self.lists["artifacts"] if wanted is None or str(a.run_ref) in wanted]

    def list_relations_for_refs(self, refs: Sequence[str]) -> Sequence[Any]:
        self.calls["list_relations_for_refs"] += 1
        wanted = set(refs)
        found = [
            e
            for e in self.lists["relations"]
            if str(e.source_ref) in wanted or str(e.target_ref) in wanted
        ]
        return sorted(found, key=lambda e: str(e.relation_ref))

    def list_provenance_for_relations(self, relation_refs: Sequence[str]) -> Sequence[Any]:
        self.calls["list_provenance_for_relations"] += 1
        wanted = set(relation_refs)
        return [p for p in self.lists["provenance"] if str(p.relation_ref) in wanted]
