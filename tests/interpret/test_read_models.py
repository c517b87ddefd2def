"""Read models and the record projection of contract §6.1."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle

import pytest
from tests.interpret.builders import Builder, day
from tests.interpret.fake_repository import InMemoryRepository

from contexta.interpret.frozen_map import FrozenMap, freeze_mapping
from contexta.interpret.projection import observation_from_row
from contexta.interpretation import (
    CompletenessNote,
    DiagnosticsIssue,
    DiagnosticsResult,
    ObservationRecord,
    RunRecord,
)


@pytest.fixture
def built() -> tuple[InMemoryRepository, Builder, str, str]:
    repo = InMemoryRepository()
    builder = Builder(repo)
    run = builder.run("r1")
    stage = builder.stage(run, "train")
    return repo, builder, run, stage


def _project(repo: InMemoryRepository) -> list[ObservationRecord]:
    return [observation_from_row(row) for row in repo.rows]


def test_metric_projection_keeps_exact_values_and_step(built):
    repo, builder, run, stage = built
    builder.metric(run, "loss", 0.5, stage=stage, step=3, unit="nats", tags={"split": "val"})
    builder.metric(run, "count", 7, stage=stage)
    builder.metric(run, "bad", math.nan, stage=stage)
    builder.metric(run, "up", math.inf, stage=stage)
    loss, count, bad, up = _project(repo)
    assert (loss.record_type, loss.key, loss.value, loss.step) == ("metric", "loss", 0.5, 3)
    assert loss.unit == "nats"
    assert loss.tags == {"split": "val"}
    assert loss.payload["metric_key"] == "loss"
    assert count.value == 7
    assert type(count.value) is int
    assert math.isnan(bad.value)
    assert up.value == math.inf
    assert loss.stage_id == stage
    assert loss.run_id == run
    assert loss.schema_version == "1.0.0"
    assert loss.message is None


def test_event_span_and_degraded_projection(built):
    repo, builder, run, stage = built
    builder.event(run, "etl.done", message="ok", attributes={"tags": {"a": "b"}}, stage=stage)
    builder.event(run, "etl.odd", message="x", attributes={"tags": {"a": 1}})
    builder.span(run, "load", started=day(1, 1), ended="2025-04-01T01:00:01.500000Z")
    builder.degraded(run, "etl.gap", severity="error", summary="lost rows", stage=stage)
    event, odd, span, degraded = _project(repo)
    assert (event.record_type, event.key, event.value, event.message) == (
        "event",
        "etl.done",
        None,
        "ok",
    )
    assert event.tags == {"a": "b"}
    assert odd.tags == {}
    assert (span.record_type, span.key, span.value, span.unit) == ("span", "load", 1500.0, "ms")
    assert (degraded.record_type, degraded.key, degraded.value) == ("degraded", "etl.gap", None)
    assert degraded.message == "lost rows"
    assert degraded.payload["severity"] == "error"
    assert degraded.degradation_marker == "capture_gap"


def test_lazy_fields_behave_like_plain_fields(built):
    repo, builder, run, stage = built
    builder.metric(run, "loss", 0.25, stage=stage, unit="u")
    record = _project(repo)[0]
    clone = pickle.loads(pickle.dumps(record))
    assert clone == record
    assert clone.unit == "u"
    assert dataclasses.asdict(record)["unit"] == "u"
    assert dataclasses.replace(record, key="other").payload == record.payload
    assert copy.deepcopy(record) == record
    assert "unit='u'" in repr(record)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.key = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        _ = record.no_such_field  # type: ignore[attr-defined]


def test_mappings_are_read_only_and_serializable():
    record = RunRecord("run:p.r", "p", "r", "open", tags={"a": "b"}, metadata={"n": [1, 2]})
    assert isinstance(record.tags, FrozenMap)
    assert record.metadata["n"] == (1, 2)
    with pytest.raises(TypeError):
        record.tags["x"] = "y"  # type: ignore[index]
    with pytest.raises(TypeError):
        record.metadata.update({})  # type: ignore[attr-defined]
    assert json.loads(json.dumps(record.metadata)) == {"n": [1, 2]}
    assert pickle.loads(pickle.dumps(record)) == record
    assert freeze_mapping(None) == {}


def test_highest_severity_orders_levels():
    def issue(severity: str) -> DiagnosticsIssue:
        return DiagnosticsIssue(severity, "failed_run", "s")

    assert DiagnosticsResult("run:p.r").highest_severity is None
    result = DiagnosticsResult("run:p.r", (issue("info"), issue("error"), issue("warning")))
    assert result.highest_severity == "error"
    assert DiagnosticsResult("run:p.r", (issue("info"), issue("warning"))).highest_severity == (
        "warning"
    )
    note = CompletenessNote("info", "x", {"run_id": "run:p.r"})
    assert note.details == {"run_id": "run:p.r"}
