"""Arbitrary input to the capture API raises only ContextaError subclasses (contract §12.2)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta.errors import ContextaError

ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=6,
)
KEYS = st.sampled_from(["loss", "a b", "", "x.y", "1abc"]) | st.text(max_size=12) | ANY
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _only_contexta_errors(call: Any) -> None:
    try:
        call()
    except ContextaError:
        pass


@SETTINGS
@given(key=KEYS, value=ANY, step=ANY, unit=ANY, tags=ANY)
def test_metric_arguments(ctx, key, value, step, unit, tags) -> None:
    run = ctx.current_run() or ctx.run("fuzz-metric")
    _only_contexta_errors(lambda: run.metric(key, value, step=step, unit=unit, tags=tags))


@SETTINGS
@given(key=KEYS, message=ANY, level=ANY, attributes=ANY, tags=ANY)
def test_event_arguments(ctx, key, message, level, attributes, tags) -> None:
    run = ctx.current_run() or ctx.run("fuzz-event")
    _only_contexta_errors(lambda: run.event(key, message, level=level, attributes=attributes,
                                            tags=tags))


@SETTINGS
@given(name=ANY, started=ANY, ended=ANY, status=ANY, issue=KEYS, category=ANY)
def test_span_and_degraded_arguments(ctx, name, started, ended, status, issue,
                                     category) -> None:
    run = ctx.current_run() or ctx.run("fuzz-span")
    _only_contexta_errors(lambda: run.span(name, started_at=started, ended_at=ended,
                                           status=status))
    _only_contexta_errors(lambda: run.degraded(issue, category, "warning", name))


@SETTINGS
@given(items=ANY, name=ANY, metadata=ANY, stage_ref=ANY, path=ANY)
def test_batches_scopes_and_artifacts(ctx, items, name, metadata, stage_ref, path) -> None:
    run = ctx.current_run() or ctx.run("fuzz-batch")
    _only_contexta_errors(lambda: run.emit_metrics(items))
    _only_contexta_errors(lambda: run.emit_events(items))
    _only_contexta_errors(lambda: run.register_artifact("checkpoint", path))
    _only_contexta_errors(lambda: run.stage(name, stage_ref=stage_ref, metadata=metadata)
                          .close())


@SETTINGS
@given(name=ANY, run_id=ANY, tags=ANY, metadata=ANY, snapshot=ANY, strict=ANY)
def test_run_arguments(ctx, name, run_id, tags, metadata, snapshot, strict) -> None:
    def open_and_close() -> None:
        ctx.run(name, run_id=run_id, tags=tags, metadata=metadata, config_snapshot=snapshot,
                strict=strict).close()

    _only_contexta_errors(open_and_close)
