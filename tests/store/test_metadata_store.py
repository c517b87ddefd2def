"""Metadata repositories on a real SQLite workspace (contract.md §4.1, §4.2)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.contract import (
    BatchExecution,
    LineageEdge,
    OperationContext,
    Project,
    ProvenanceRecord,
    Run,
    SampleObservation,
    StageExecution,
)
from contexta.errors import (
    ConflictError,
    ContextaError,
    MetadataError,
    NotFoundError,
    ReadOnlyStoreError,
    StoreAccessError,
    ValidationError,
)
from contexta.store.metadata import MetadataStore

T0 = "2025-04-01T00:00:00Z"
T1 = "2025-04-01T01:00:00Z"


def project(**kw: object) -> Project:
    return Project(**{"project_ref": "project:p", "name": "P", "created_at": T0, **kw})  # type: ignore[arg-type]


def run(**kw: object) -> Run:
    base = {
        "run_ref": "run:p.r1",
        "project_ref": "project:p",
        "name": "r1",
        "status": "open",
        "started_at": T0,
    }
    return Run(**{**base, **kw})  # type: ignore[arg-type]


def stage(**kw: object) -> StageExecution:
    base = {
        "stage_execution_ref": "stage:p.r1.s",
        "run_ref": "run:p.r1",
        "stage_name": "s",
        "status": "open",
        "started_at": T0,
    }
    return StageExecution(**{**base, **kw})  # type: ignore[arg-type]


def batch(**kw: object) -> BatchExecution:
    base = {
        "batch_execution_ref": "batch:p.r1.s.b",
        "run_ref": "run:p.r1",
        "stage_execution_ref": "stage:p.r1.s",
        "batch_name": "b",
        "status": "open",
        "started_at": T0,
    }
    return BatchExecution(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture
def store(ctx: Contexta) -> MetadataStore:
    ms = ctx.metadata_store
    ms.projects.put_project(project())
    ms.runs.put_run(run())
    ms.stages.put_stage_execution(stage())
    return ms


def test_put_and_read_back_every_repository(store: MetadataStore) -> None:
    store.batches.put_batch_execution(batch())
    sample = SampleObservation(
        sample_observation_ref="sample:p.r1.s.b.x",
        run_ref="run:p.r1",
        stage_execution_ref="stage:p.r1.s",
        batch_execution_ref="batch:p.r1.s.b",
        sample_name="x",
        observed_at=T1,
    )
    op = OperationContext(
        operation_context_ref="op:p.r1.s.load",
        run_ref="run:p.r1",
        stage_execution_ref="stage:p.r1.s",
        operation_name="load",
        observed_at=T1,
    )
    edge = LineageEdge(
        relation_ref="relation:e1",
        relation_type="produced_by",
        source_ref="stage:p.r1.s",
        target_ref="artifact:p.r1.model",
        recorded_at=T1,
        origin_marker="explicit",
        confidence_marker="high",
    )
    prov = ProvenanceRecord(
        provenance_ref="provenance:pv1",
        relation_ref="relation:e1",
        assertion_mode="explicit",
        asserted_at=T1,
    )
    store.samples.put_sample_observation(sample)
    store.operations.put_operation_context(op)
    store.relations.put_relation(edge)
    store.provenance.put_provenance(prov)
    assert store.runs.get_run("run:p.r1") == run()
    assert store.batches.list_batch_executions(run_ref="run:p.r1") == (batch(),)
    assert store.samples.list_sample_observations(batch_ref="batch:p.r1.s.b") == (sample,)
    assert store.operations.list_operation_contexts(run_ref="run:p.r1") == (op,)
    assert store.relations.list_relations_for_ref("artifact:p.r1.model") == (edge,)
    assert store.relations.list_relations_for_source("stage:p.r1.s") == (edge,)
    assert store.provenance.list_provenance_for_relation("relation:e1") == (prov,)
    assert store.runs.exists_run("run:p.r1")
    assert store.runs.find_run("run:p.r1") == run()
    assert "stage:p.r1.s" in store.list_registered_refs()
    assert store.check_integrity().ok


def test_identical_put_is_a_noop_and_legal_updates_apply(store: MetadataStore) -> None:
    assert store.runs.put_run(run()) == run()
    closed = run(status="completed", ended_at=T1, tags={"team": "data"})
    store.runs.put_run(closed)
    assert store.runs.get_run("run:p.r1") == closed
    store.stages.put_stage_execution(stage(order_index=0))
    assert store.stages.get_stage_execution("stage:p.r1.s").order_index == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "renamed"}, "name"),
        ({"started_at": T1}, "started_at"),
    ],
)
def test_conflicting_reput_names_the_field(
    store: MetadataStore, change: dict[str, object], field: str
) -> None:
    with pytest.raises(ConflictError) as info:
        store.runs.put_run(run(**change))
    assert isinstance(info.value, MetadataError)
    assert info.value.code == "metadata_ref_conflict"
    assert field in info.value.message
    assert field in info.value.details["fields"]
    assert store.runs.get_run("run:p.r1") == run()


def test_terminal_status_never_changes(store: MetadataStore) -> None:
    store.runs.put_run(run(status="failed", ended_at=T1))
    with pytest.raises(ConflictError, match="status"):
        store.runs.put_run(run(status="completed", ended_at=T1))
    with pytest.raises(ConflictError):
        store.runs.put_run(run())


def test_order_index_is_fill_once(store: MetadataStore) -> None:
    store.stages.put_stage_execution(stage(order_index=1))
    with pytest.raises(ConflictError, match="order_index"):
        store.stages.put_stage_execution(stage(order_index=2))


def test_immutable_entities_refuse_any_change(store: MetadataStore) -> None:
    sample = SampleObservation(
        sample_observation_ref="sample:p.r1.s.x",
        run_ref="run:p.r1",
        stage_execution_ref="stage:p.r1.s",
        sample_name="x",
        observed_at=T1,
    )
    store.samples.put_sample_observation(sample)
    other = SampleObservation(
        sample_observation_ref="sample:p.r1.s.x",
        run_ref="run:p.r1",
        stage_execution_ref="stage:p.r1.s",
        sample_name="x",
        observed_at=T0,
    )
    with pytest.raises(ConflictError, match="observed_at"):
        store.samples.put_sample_observation(other)


MISSING_PARENTS: list[tuple[str, Callable[[MetadataStore], object], str]] = [
    (
        "run without project",
        lambda s: s.runs.put_run(run(run_ref="run:q.r", project_ref="project:q")),
        "metadata_missing_run_project",
    ),
    (
        "stage without run",
        lambda s: s.stages.put_stage_execution(
            stage(stage_execution_ref="stage:p.r9.s", run_ref="run:p.r9")
        ),
        "metadata_missing_stage_run",
    ),
    (
        "batch without stage",
        lambda s: s.batches.put_batch_execution(
            batch(batch_execution_ref="batch:p.r1.t.b", stage_execution_ref="stage:p.r1.t")
        ),
        "metadata_missing_batch_stage",
    ),
    (
        "sample without batch",
        lambda s: s.samples.put_sample_observation(
            SampleObservation(
                sample_observation_ref="sample:p.r1.s.b.x",
                run_ref="run:p.r1",
                stage_execution_ref="stage:p.r1.s",
                batch_execution_ref="batch:p.r1.s.b",
                sample_name="x",
                observed_at=T1,
            )
        ),
        "metadata_missing_sample_batch",
    ),
    (
        "relation to missing run",
        lambda s: s.relations.put_relation(
            LineageEdge(
                relation_ref="relation:x",
                relation_type="used",
                source_ref="run:p.nope",
                target_ref="artifact:p.r1.a",
                recorded_at=T1,
                origin_marker="explicit",
                confidence_marker="high",
            )
        ),
        "metadata_missing_relation_source",
    ),
    (
        "provenance without relation",
        lambda s: s.provenance.put_provenance(
            ProvenanceRecord(
                provenance_ref="provenance:x",
                relation_ref="relation:none",
                assertion_mode="explicit",
                asserted_at=T1,
            )
        ),
        "metadata_missing_provenance_relation",
    ),
]


@pytest.mark.parametrize(
    ("label", "call", "code"), MISSING_PARENTS, ids=[m[0] for m in MISSING_PARENTS]
)
def test_missing_parent_names_the_ref(
    store: MetadataStore, label: str, call: Callable[[MetadataStore], object], code: str
) -> None:
    with pytest.raises(NotFoundError) as info:
        call(store)
    assert info.value.code == code
    assert isinstance(info.value, MetadataError)
    assert info.value.details["missing_ref"] in info.value.message


def test_relation_to_external_kinds_is_accepted(store: MetadataStore) -> None:
    edge = LineageEdge(
        relation_ref="relation:ext",
        relation_type="used",
        source_ref="dataset:vendor.weather",
        target_ref="stage:p.r1.s",
        recorded_at=T1,
        origin_marker="explicit",
        confidence_marker="medium",
    )
    assert store.relations.put_relation(edge) == edge


@pytest.mark.parametrize("bad", ["run:P.r1", "stage:p.r1.s", "nonsense", "", 42, None])
def test_bad_ref_arguments_raise_validation_error(store: MetadataStore, bad: object) -> None:
    with pytest.raises(ValidationError):
        store.runs.get_run(bad)


def test_get_missing_raises_not_found_find_returns_none(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError) as info:
        store.runs.get_run("run:p.absent")
    assert info.value.code == "metadata_row_not_found"
    assert store.runs.find_run("run:p.absent") is None
    assert store.runs.exists_run("run:p.absent") is False


def test_put_of_wrong_model_type_is_a_validation_error(store: MetadataStore) -> None:
    with pytest.raises(ValidationError):
        store.runs.put_run(project())  # type: ignore[arg-type]


def test_lists_order_by_instant_not_string(ctx: Contexta) -> None:
    ms = ctx.metadata_store
    ms.projects.put_project(project())
    ms.runs.put_run(run(run_ref="run:p.b", name="b", started_at="2025-01-01T00:00:00.500000Z"))
    ms.runs.put_run(run(run_ref="run:p.a", name="a", started_at="2025-01-01T09:00:00+09:00"))
    assert [r.name for r in ms.runs.list_runs("project:p")] == ["a", "b"]


def test_close_then_reuse_reopens(store: MetadataStore) -> None:
    store.close()
    store.close()
    assert store.runs.exists_run("run:p.r1")


def test_second_process_style_store_reads_same_workspace(ctx: Contexta) -> None:
    ctx.metadata_store.projects.put_project(project())
    other = MetadataStore(ctx.config.metadata)
    try:
        assert other.projects.get_project("project:p") == project()
    finally:
        other.close()


def test_read_only_store_never_creates_and_refuses_writes(tmp_path: Path) -> None:
    from contexta.config import MetadataStoreConfig

    missing = MetadataStore(
        MetadataStoreConfig(database_path=tmp_path / "none" / "db.sqlite3", read_only=True)
    )
    with pytest.raises(StoreAccessError) as info:
        missing.runs.list_runs()
    assert info.value.code == "store_missing"
    assert not (tmp_path / "none").exists()

    path = tmp_path / "db.sqlite3"
    writable = MetadataStore(MetadataStoreConfig(database_path=path))
    writable.projects.put_project(project())
    writable.close()
    reader = MetadataStore(MetadataStoreConfig(database_path=path, read_only=True))
    assert reader.projects.get_project("project:p") == project()
    with pytest.raises(ReadOnlyStoreError):
        reader.projects.put_project(project(description="x"))
    reader.close()


def test_errors_pickle_round_trip(store: MetadataStore) -> None:
    with pytest.raises(ContextaError) as info:
        store.runs.get_run("run:p.absent")
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is type(info.value)
    assert clone.code == info.value.code
    assert clone.message == info.value.message


def test_reading_a_missing_workspace_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "typo" / ".contexta"
    with Contexta(workspace=root) as ctx:
        assert ctx.list_runs() == ()
        assert ctx.metadata_store.runs.find_run("run:p.r1") is None
        assert ctx.record_store.count_records() == 0
    assert not (tmp_path / "typo").exists()
    with Contexta(workspace=root) as ctx:
        ctx.metadata_store.projects.put_project(project())
        assert ctx.metadata_store.projects.get_project("project:p") == project()
    assert (root / "metadata").is_dir()
