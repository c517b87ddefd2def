"""Metric values, steps, tags and the atomic batch calls (contract §3.7, §8.4)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from contexta.capture import EventEmission, MetricEmission, ResultStatus, SpanEmission
from contexta.errors import ValidationError


def test_non_finite_values_are_stored_exactly_and_flagged(ctx, records_of) -> None:
    with ctx.run("non-finite") as run, run.stage("train") as stage:
        for step, value in enumerate([float("nan"), float("inf"), -float("inf"), -0.0, 2**40]):
            stage.metric("loss", value, step=step)
    values = [r.payload.value for r in records_of(ctx, run.ref, "metric")]
    assert math.isnan(values[0])
    assert values[1:3] == [math.inf, -math.inf]
    assert math.copysign(1.0, values[3]) == -1.0
    assert values[4] == 2**40
    assert isinstance(values[4], int)
    issues = [i for i in ctx.diagnose_run(run.ref).issues if i.code == "non_finite_metric"]
    assert [(i.details["nan_count"], i.details["pos_inf_count"],
             i.details["neg_inf_count"]) for i in issues] == [(1, 1, 1)]


def test_repeated_and_backward_steps_are_kept(ctx, records_of) -> None:
    with ctx.run("steps") as run, run.stage("train") as stage:
        for step in (0, 1, 1, 0):
            stage.metric("acc", 0.5, step=step)
    assert [r.payload.step for r in records_of(ctx, run.ref, "metric")] == [0, 1, 1, 0]
    assert "duplicate_metric_step" in {i.code for i in ctx.diagnose_run(run.ref).issues}


def test_non_numeric_value_becomes_a_degraded_marker_unless_strict(make_ctx, records_of) -> None:
    ctx = make_ctx()
    with ctx.run("lenient") as run:
        result = run.metric("accuracy", "0.93")
    assert result.status is ResultStatus.DEGRADED
    assert result.degradation_emitted
    (marker,) = records_of(ctx, run.ref)
    assert marker.payload.issue_key == "capture.invalid_metric_value"
    assert marker.payload.attributes["python_type"] == "str"
    with ctx.run("strict", strict=True) as strict_run:
        with pytest.raises(ValidationError) as err:
            strict_run.metric("accuracy", "0.93")
        assert err.value.code == "record_invalid_metric_value"
    assert records_of(ctx, strict_run.ref) == []
    with ctx.run("always") as run2:
        for bad in (True, Decimal("1.5")):
            if isinstance(bad, bool):
                with pytest.raises(ValidationError):
                    run2.metric("flag", bad)
            else:
                assert run2.metric("dec", bad).degraded


def test_invalid_keys_and_steps_raise_and_store_nothing(ctx, records_of) -> None:
    with ctx.run("invalid") as run:
        for call in (lambda: run.metric("a b", 1), lambda: run.metric("ok", 1, step=-1),
                     lambda: run.event("e", "m", level="loud"),
                     lambda: run.span("s", status="weird"),
                     lambda: run.degraded("x", "nope", "warning", "s")):
            with pytest.raises(ValidationError):
                call()
    assert records_of(ctx, run.ref) == []


def test_emit_metrics_validates_every_item_before_storing_any(ctx, records_of) -> None:
    with ctx.run("atomic") as run:
        good = [MetricEmission("m", i, step=i) for i in range(5)]
        with pytest.raises(ValidationError):
            run.emit_metrics([*good, {"key": "bad key", "value": 1}])
        with pytest.raises(ValidationError):
            run.emit_metrics([{"key": "m", "value": 1, "colour": "red"}])
        assert records_of(ctx, run.ref) == []
        batch = run.emit_metrics([*good, {"key": "m", "value": 2.5, "step": 9, "unit": "s",
                                          "tags": {"split": "val"}}])
    assert (batch.status, batch.total_count, batch.success_count) == (ResultStatus.SUCCESS, 6, 6)
    stored = records_of(ctx, run.ref, "metric")
    assert [r.payload.step for r in stored] == [0, 1, 2, 3, 4, 9]
    assert stored[-1].payload.tags == {"split": "val"}
    assert stored[-1].payload.unit == "s"


def test_emit_events_and_spans(ctx, records_of) -> None:
    with ctx.run("batches") as run, run.stage("s") as stage:
        events = stage.emit_events([EventEmission("a", "first", tags={"k": "v"}),
                                    {"key": "b", "message": "second", "level": "warning"}])
        spans = stage.emit_spans([SpanEmission("load", started_at="2024-01-01T00:00:00Z",
                                               ended_at="2024-01-01T00:00:01.5Z"),
                                  {"name": "save"}])
    assert events.success_count == spans.success_count == 2
    stored = records_of(ctx, run.ref)
    assert stored[0].payload.attributes["tags"] == {"k": "v"}
    assert stored[2].payload.duration_ms == 1500.0
    trace_ids = {r.payload.trace_id for r in stored[2:]}
    assert len(trace_ids) == 1


def test_timed_spans_nest_and_record_errors(ctx, records_of) -> None:
    with ctx.run("timed") as run:
        with pytest.raises(ZeroDivisionError), run.timed("outer") as outer:
            with run.timed("inner"):
                pass
            _ = 1 / 0
    inner, outer_record = records_of(ctx, run.ref, "span")
    assert inner.payload.parent_span_id == outer.span_id == outer_record.payload.span_id
    assert outer_record.payload.status == "error"
    assert outer_record.payload.attributes["exception_type"] == "ZeroDivisionError"
    assert run.status == "completed"  # the error was handled inside the run


def test_numpy_scalars_become_plain_numbers(ctx, records_of) -> None:
    np = pytest.importorskip("numpy")
    with ctx.run("numpy") as run:
        run.metric("i", np.int64(3))
        run.metric("f", np.float32(0.5))
    values = [r.payload.value for r in records_of(ctx, run.ref, "metric")]
    assert values == [3, 0.5]
    assert [type(v) for v in values] == [int, float]


def test_emit_metrics_turns_non_numeric_items_into_markers(ctx, records_of) -> None:
    with ctx.run("mixed") as run:
        batch = run.emit_metrics([{"key": "a", "value": 1}, {"key": "b", "value": None}])
    assert batch.status is ResultStatus.DEGRADED
    assert [r.status for r in batch.results] == [ResultStatus.SUCCESS, ResultStatus.DEGRADED]
    assert batch.results[1].degradation_emitted
    kinds = [r.envelope.record_type for r in records_of(ctx, run.ref)]
    assert kinds == ["metric", "degraded"]


def test_bad_key_with_a_non_numeric_value_still_raises(ctx, records_of) -> None:
    with ctx.run("bad-key") as run:
        with pytest.raises(ValidationError):
            run.metric("a b", "text")
        with pytest.raises(ValidationError):
            run.emit_metrics([{"key": "a b", "value": "text"}])
    assert records_of(ctx, run.ref) == []


def test_fast_success_result_equals_a_constructed_one(ctx) -> None:
    from contexta.capture import CaptureResult

    with ctx.run("results") as run:
        result = run.metric("x", 1)
    built = CaptureResult("SUCCESS", payload=result.payload, family="RECORD",
                          deliveries=result.deliveries)
    assert result == built
    assert result.to_dict() == built.to_dict()
    assert (result.value, result.degradation_notes, result.failed) == (result.payload, (), False)
