"""``get_run_snapshot`` (contract §5.6) and friends on a real SQLite workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.interpret.builders import Builder, StoreTarget, day

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.interpretation import (
    CompositeStoreRepository,
    ProvenanceView,
    QueryService,
    RunSnapshot,
)


@pytest.fixture
def built(ctx, tmp_path) -> tuple[QueryService, Builder]:
    builder = Builder(StoreTarget(ctx), "proj", tmp_path=tmp_path)
    qs = QueryService(
        CompositeStoreRepository(ctx.metadata_store, ctx.record_store, ctx.artifact_store)
    )
    return qs, builder


def test_full_snapshot_contents_and_order(built):
    qs, b = built
    run = b.run("r1", started=day(3), tags={"team": "ml"}, metadata={"code_revision": "abc"})
    late = b.stage(run, "zeta", order=None, started=day(3, 5))
    train = b.stage(run, "train", order=1, started=day(3, 3))
    prep = b.stage(run, "prep", order=0, started=day(3, 4))
    b.batch(train, "b-late", order=2)
    p0 = b.batch(prep, "p0", order=0)
    b.batch(train, "b-first", order=1)
    s2 = b.sample(train, "s2", observed=day(3, 9))
    b.sample(train, "s1", observed=day(3, 8))
    dep = b.deployment("serve", run_ref=run, started=day(4))
    art = b.artifact(run, "model", kind="model_bundle", stage_ref=train, body=b"weights")
    rel = b.relation(train, art, name="rel-1")
    b.relation("dataset:raw", p0, name="rel-0")  # batches count, samples do not (§5.6)
    b.relation("dataset:other", s2, name="rel-2")
    b.provenance(rel, name="pv-old", asserted=day(3, 1))
    newest = b.provenance(rel, name="pv-new", asserted=day(3, 2), formation="git:abc")
    m1 = b.metric(run, "loss", 0.5, stage=train)
    b.event(run, "done", stage=prep)
    b.metric(run, "wall", 3, stage=late)

    snap = qs.get_run_snapshot("r1")
    assert isinstance(snap, RunSnapshot)
    assert snap.run.run_id == run
    assert snap.run.project_name == "proj"
    assert snap.run.tags == {"team": "ml"}
    assert snap.run.metadata == {"code_revision": "abc"}
    assert [s.name for s in snap.stages] == ["prep", "train", "zeta"]
    assert [s.order for s in snap.stages] == [0, 1, 0]
    assert [b_.name for b_ in snap.batches] == ["p0", "b-first", "b-late"]
    assert [s.name for s in snap.samples] == ["s1", "s2"]
    assert [d.deployment_id for d in snap.deployments] == [dep]
    assert [a.artifact_ref for a in snap.artifacts] == [art]
    assert snap.artifacts[0].size_bytes == len(b"weights")
    assert [r.relation_ref for r in snap.relations] == ["relation:proj.rel-0", rel]
    assert isinstance(snap.provenance, ProvenanceView)
    assert snap.provenance.provenance_ref == newest
    assert snap.provenance.formation_context_ref == "git:abc"
    assert next(r.record_id for r in snap.records) == m1
    assert [r.record_type for r in snap.records] == ["metric", "event", "metric"]
    assert snap.completeness_notes == ()
    kinds = [link.kind for link in snap.evidence_links]
    assert kinds[0] == "run"
    assert kinds.count("stage") == 3
    assert kinds.count("record") == 3
    assert qs.get_provenance(run) == snap.provenance
    assert qs.get_artifact_origin(art).run.run_id == run
    assert qs.get_artifact_origin("model").run.run_id == run
    assert qs.get_artifact_origin("artifact:proj.r1.none") is None


def test_completeness_notes_of_a_bare_run(built):
    qs, b = built
    run = b.run("bare")
    assert qs.get_run_snapshot(run).completeness_notes == (
        "stage_list_empty",
        "deployment_list_empty",
        "artifact_list_empty",
        "relation_scope_empty",
        "record_scope_empty",
        "provenance_missing",
    )
    stage = b.stage(run, "s")
    b.batch(stage, "b")
    b.stage(run, "quiet", order=1)
    b.metric(run, "x", 1.0, stage=stage)
    notes = qs.get_run_snapshot(run).completeness_notes
    assert "sample_list_empty" in notes
    assert "missing_stage_records:quiet" in notes
    assert "missing_stage_records:s" not in notes
    assert "batch_list_empty" not in notes


def test_orphan_records_are_counted(built):
    qs, b = built
    run = b.run("o")
    stage = b.stage(run, "s")
    op = b.operation(stage, "load")
    b.metric(run, "a", 1.0, stage="stage:proj.o.ghost")
    b.metric(run, "b", 1.0, stage=stage, batch=f"{stage.replace('stage:', 'batch:')}.nob")
    b.metric(run, "c", 1.0, stage=stage, operation=op)
    b.metric(run, "d", 1.0, stage=stage, operation=f"op:{stage[6:]}.ghost-op")
    notes = qs.get_run_snapshot(run).completeness_notes
    assert "orphan_records:3" in notes


def test_read_your_writes_and_cross_instance_visibility(built, ctx, tmp_path):
    qs, b = built
    run = b.run("live", status="open")
    assert qs.get_run_snapshot(run).records == ()
    b.metric(run, "x", 1.0)
    assert [r.key for r in qs.get_run_snapshot(run).records] == ["x"]
    other = Contexta(
        config=UnifiedConfig(
            project_name="proj", workspace=WorkspaceConfig(root_path=Path(ctx.workspace))
        )
    )
    try:
        other.record_store.append  # noqa: B018 - opens the second instance's stores
        Builder(StoreTarget(other), "proj", id_start=500).metric(run, "y", 2.0)
    finally:
        other.close()
    assert [r.key for r in qs.get_run_snapshot(run).records] == ["x", "y"]
    assert [r.status for r in qs.list_runs("proj")] == ["open"]
    b.run("live", status="completed", ended=day(1, 3))
    assert [r.status for r in qs.list_runs("proj")] == ["completed"]


def test_list_deployments_batches_and_samples(built):
    qs, b = built
    r1 = b.run("r1")
    r2 = b.run("r2", started=day(2))
    b.deployment("d-late", run_ref=r2, started=day(9))
    b.deployment("d-early", run_ref=r1, started=day(2))
    b.deployment("d-free", started=day(5))
    assert [d.name for d in qs.list_deployments("proj")] == ["d-early", "d-free", "d-late"]
    assert [d.name for d in qs.list_deployments(run_id="r2")] == ["d-late"]
    assert qs.list_deployments("proj")[0].project_name == "proj"
    stage = b.stage(r1, "s")
    batch = b.batch(stage, "b")
    b.sample(stage, "loose", observed=day(1, 5))
    b.target.put(
        __import__("contexta.contract", fromlist=["SampleObservation"]).SampleObservation(
            sample_observation_ref=f"sample:{batch[6:]}.inb",
            run_ref=r1,
            stage_execution_ref=stage,
            batch_execution_ref=batch,
            sample_name="inb",
            observed_at=day(1, 4),
        )
    )
    assert [s.name for s in qs.list_samples(r1)] == ["inb", "loose"]
    assert [s.name for s in qs.list_samples(r1, batch_id="b")] == ["inb"]
    assert [s.batch_id for s in qs.list_samples(r1, "s", "b")] == [batch]
