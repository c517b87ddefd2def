"""Scope names are non-blank text (contract §8.2 gives every name a slug, but a blank
name would become an anonymous ``h-<hash>`` component); the error names the field."""

from __future__ import annotations

import pytest

from contexta.errors import ContextaError, ValidationError


@pytest.mark.parametrize("name", ["", "   ", "\t\n", None, 42])
def test_blank_or_non_text_stage_and_batch_names_are_rejected(ctx, name: object) -> None:
    with ctx.run("names") as run:
        with pytest.raises(ValidationError) as caught:
            run.stage(name)  # type: ignore[arg-type]
        assert caught.value.code == "context_invalid_name"
        assert caught.value.details["field"] == "name"
        with run.stage("ok") as stage:
            with pytest.raises(ValidationError):
                stage.batch(name)  # type: ignore[arg-type]
            with stage.batch("still works") as batch:
                batch.metric("rows", 1)
    snapshot = ctx.get_run_snapshot(run.ref)
    assert [s.name for s in snapshot.stages] == ["ok"]


@pytest.mark.parametrize("name", ["", "  "])
def test_blank_run_and_deployment_names_are_rejected(ctx, name: str) -> None:
    with pytest.raises(ContextaError):
        ctx.run(name)
    with pytest.raises(ValidationError):
        ctx.deployment(name)
    assert list(ctx.list_runs()) == []


def test_an_event_without_a_message_names_the_field(ctx) -> None:
    with ctx.run("events") as run:
        with pytest.raises(ValidationError) as caught:
            run.event("loaded")
        assert caught.value.code == "context_invalid_string"
        assert caught.value.details["field"] == "message"
