"""Scope lifecycle: open/close writes, exceptions, nesting rules, ctx.close (contract §8.1)."""

from __future__ import annotations

import pytest

from contexta.errors import ClosedScopeError, LifecycleError


class PipelineError(RuntimeError):
    pass


def test_exception_inside_a_stage_fails_stage_and_run_and_is_recorded(ctx, records_of) -> None:
    with pytest.raises(PipelineError, match="bad join"):
        with ctx.run("exploding") as run:
            with run.stage("load") as ok_stage:
                ok_stage.metric("rows", 3)
            with run.stage("join") as stage:
                raise PipelineError("bad join")
    runs = ctx.metadata_store.runs
    stored = runs.get_run(run.ref)
    assert (stored.status, run.status) == ("failed", "failed")
    assert stored.ended_at is not None
    stages = ctx.metadata_store.stages
    assert stages.get_stage_execution(ok_stage.ref).status == "completed"
    assert stages.get_stage_execution(stage.ref).status == "failed"
    events = [r for r in records_of(ctx, run.ref, "event")
              if r.payload.event_key == "contexta.exception"]
    assert len(events) == 1, "the run must not record the stage's exception again"
    event = events[0]
    assert event.payload.level == "error"
    assert event.envelope.stage_execution_ref == stage.ref
    attributes = event.payload.attributes
    assert attributes["type"].endswith("PipelineError")
    assert attributes["message"] == "bad join"
    assert "raise PipelineError" in attributes["traceback"]
    assert len(attributes["traceback"]) <= 10_000


def test_long_traceback_is_cut_to_ten_thousand_characters(ctx, records_of) -> None:
    def ping(depth: int) -> None:  # two functions, so Python cannot fold repeated frames
        if depth == 0:
            raise PipelineError("deep")
        pong(depth - 1)

    def pong(depth: int) -> None:
        ping(depth)

    with pytest.raises(PipelineError), ctx.run("deep") as run:
        ping(300)
    (event,) = records_of(ctx, run.ref, "event")
    assert len(event.payload.attributes["traceback"]) == 10_000
    assert event.payload.attributes["traceback"].rstrip().endswith("PipelineError: deep")


def test_keyboard_interrupt_cancels_and_system_exit_zero_completes(ctx) -> None:
    with pytest.raises(KeyboardInterrupt), ctx.run("interrupted") as interrupted:
        raise KeyboardInterrupt
    with pytest.raises(SystemExit), ctx.run("exits-cleanly") as clean:
        raise SystemExit(0)
    with pytest.raises(SystemExit), ctx.run("exits-badly") as bad:
        raise SystemExit(3)
    runs = ctx.metadata_store.runs
    assert runs.get_run(interrupted.ref).status == "cancelled"
    assert runs.get_run(clean.ref).status == "completed"
    assert runs.get_run(bad.ref).status == "failed"


def test_closing_a_parent_closes_children_with_the_same_status(ctx) -> None:
    run = ctx.run("explicit")
    stage = run.stage("s")
    batch = stage.batch("b")
    op = batch.operation("resize")
    run.close(status="cancelled")
    assert [s.status for s in (op, batch, stage, run)] == ["cancelled"] * 4
    stored = ctx.metadata_store
    assert stored.batches.get_batch_execution(batch.ref).status == "cancelled"
    assert stored.stages.get_stage_execution(stage.ref).status == "cancelled"
    run.close(status="completed")  # a second close is a no-op
    assert stored.runs.get_run(run.ref).status == "cancelled"
    with pytest.raises(ClosedScopeError) as err:
        stage.metric("late", 1)
    assert err.value.code == "runtime_scope_closed"
    with pytest.raises(LifecycleError) as bad_status:
        ctx.run("x").close(status="done")
    assert bad_status.value.code == "runtime_invalid_close_status"


def test_operation_close_stores_a_covering_span(ctx, records_of) -> None:
    with ctx.run("ops") as run, run.stage("s") as stage, stage.operation("Resize Images") as op:
        op.metric("images", 4)
    spans = records_of(ctx, run.ref, "span")
    assert [(s.payload.span_name, s.payload.status) for s in spans] == [("resize-images", "ok")]
    assert spans[0].envelope.operation_context_ref == op.ref
    stored = ctx.metadata_store.operations.get_operation_context(op.ref)
    assert stored.metadata["display_name"] == "Resize Images"


def test_nesting_rules_within_one_thread(ctx) -> None:
    with ctx.run("outer") as run:
        with pytest.raises(LifecycleError) as nested_run:
            ctx.run("inner")
        assert nested_run.value.code == "runtime_run_already_active"
        with run.stage("a") as stage:
            with pytest.raises(LifecycleError) as second_stage:
                run.stage("b")
            assert second_stage.value.code == "runtime_stage_already_active"
            with stage.batch("b1"):
                with pytest.raises(LifecycleError) as second_batch:
                    stage.batch("b2")
                assert second_batch.value.code == "runtime_batch_already_active"
            with stage.sample("s1"):
                with pytest.raises(LifecycleError) as conflict:
                    stage.operation("o1")
                assert conflict.value.code == "runtime_scope_conflict"
        with run.stage("b"):  # sequential stages are fine
            pass
    with ctx.deployment("serve") as deployment:
        with pytest.raises(LifecycleError) as in_deployment:
            ctx.run("inside")
        assert in_deployment.value.code == "runtime_scope_conflict"
    assert deployment.status == "completed"


def test_stage_and_batch_order_and_unique_names(ctx) -> None:
    with ctx.run("orders") as run:
        with run.stage("Load Data") as first:
            pass
        with run.stage("load-data") as second:
            with second.batch("b") as b1:
                pass
            with second.batch("b") as b2:
                pass
    assert (first.name, second.name) == ("load-data", "load-data-2")
    assert (first.order_index, second.order_index) == (0, 1)
    assert (b1.ref.rsplit(".", 1)[1], b2.ref.rsplit(".", 1)[1]) == ("b", "b-2")
    assert (b1.order_index, b2.order_index) == (0, 1)
    stored = ctx.metadata_store.stages.get_stage_execution(first.ref)
    assert stored.metadata["display_name"] == "Load Data"


def test_ctx_close_fails_open_scopes_and_records_abandonment(make_ctx, records_of) -> None:
    ctx = make_ctx()
    run = ctx.run("left-open")
    stage = run.stage("s")
    ctx.close()
    assert (run.status, stage.status) == ("failed", "failed")
    reader = make_ctx()
    assert reader.metadata_store.runs.get_run(run.ref).status == "failed"
    keys = [r.payload.event_key for r in records_of(reader, run.ref, "event")]
    assert keys == ["contexta.scope-abandoned"]


def test_current_scope_lookup_and_facade_calls(ctx) -> None:
    assert ctx.current_run() is None
    with pytest.raises(LifecycleError) as no_run:
        ctx.metric("x", 1)
    assert no_run.value.code == "runtime_capture_requires_run"
    with ctx.run("current") as run, run.stage("s") as stage, stage.batch("b") as batch:
        assert ctx.current_run() is run
        assert ctx.current_stage() is stage
        assert ctx.current_batch() is batch
        assert ctx.current_deployment() is None
        result = ctx.metric("via_facade", 2)
        assert result.payload.envelope.batch_execution_ref == batch.ref
    assert ctx.current_stage() is None


def test_reserved_metadata_keys_are_refused(ctx) -> None:
    from contexta.errors import ValidationError

    with pytest.raises(ValidationError, match="reserved"):
        ctx.run("r", metadata={"contexta.owner_pid": 1})


def test_deployment_scope_writes_its_execution_and_records(ctx, records_of) -> None:
    with ctx.run("train") as run:
        pass
    with ctx.deployment("Serve Model", run_ref=run.ref) as deployment:
        result = deployment.metric("latency_ms", 12.5)
        assert ctx.current_deployment() is deployment
    stored = ctx.metadata_store.deployments.get_deployment_execution(deployment.ref)
    assert (stored.status, str(stored.run_ref)) == ("completed", run.ref)
    assert stored.metadata["display_name"] == "Serve Model"
    assert deployment.ref.startswith("deployment:capture-tests.serve-model-")
    assert result.payload.envelope.deployment_execution_ref == deployment.ref
    assert [r.payload.metric_key for r in records_of(ctx, run.ref)] == ["latency_ms"]
    with ctx.deployment("detached") as detached:
        with pytest.raises(LifecycleError) as err:
            detached.metric("x", 1)
        assert err.value.code == "runtime_capture_requires_run"
