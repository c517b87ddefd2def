"""Extra sinks, artifact registration and heartbeats (contract §8.4, §8.6, §8.8)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from contexta.capture import (
    CaptureDispatcher,
    CompositeSink,
    InMemorySink,
    LocalJsonlSink,
    PayloadFamily,
    ResultStatus,
    dispatch_capture_result,
)
from contexta.capture.sinks import StdoutSink, extract_payload_ref
from contexta.errors import ArtifactError, ConflictError, ValidationError


def test_sinks_receive_copies_of_what_was_stored(make_ctx, tmp_path: Path) -> None:
    memory = InMemorySink(supported_families=(PayloadFamily.RECORD,))
    jsonl = LocalJsonlSink(tmp_path / "sink")
    ctx = make_ctx(sinks=[CompositeSink([memory, jsonl])])
    with ctx.run("sinks") as run:
        result = run.metric("x", 1.5)
    assert [d.sink_name for d in result.deliveries] == ["workspace", "composite"]
    assert result.status is ResultStatus.SUCCESS
    assert [e.payload_type for e in memory.entries] == ["MetricRecord"]
    assert memory.entries[0].payload_ref == str(result.payload.envelope.record_ref)
    lines = (tmp_path / "sink" / "record.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["payload"]["value"] == 1.5
    contexts = [json.loads(line) for line in
                (tmp_path / "sink" / "context.jsonl").read_text().splitlines()]
    assert [c.get("status") for c in contexts if "run_ref" in c and "name" in c] == [
        "open", "completed"]


def test_stdout_sink_and_dispatch_functions(ctx, capsys: pytest.CaptureFixture[str]) -> None:
    with ctx.run("stdout") as run:
        stored = run.metric("x", 1)
    sink = StdoutSink(supported_families=("RECORD",))
    dispatched = dispatch_capture_result(ctx.config, stored, sinks=[sink])
    assert dispatched.deliveries[-1].sink_name == "stdout"
    assert json.loads(capsys.readouterr().out)["payload"]["metric_key"] == "x"
    skipped = CaptureDispatcher(ctx.config, [InMemorySink(supported_families=("ARTIFACT",))])
    assert skipped.dispatch_capture(stored).deliveries[-1].status.value == "SKIPPED"
    assert extract_payload_ref(stored.payload) == str(stored.payload.envelope.record_ref)


def test_artifact_body_is_stored_with_its_hash(ctx, tmp_path: Path) -> None:
    first = tmp_path / "a" / "model.ckpt"
    second = tmp_path / "b" / "model.ckpt"
    for path, body in ((first, b"one"), (second, b"two")):
        path.parent.mkdir()
        path.write_bytes(body)
    with ctx.run("artifacts") as run, run.stage("train") as stage:
        one = stage.register_artifact("checkpoint", first, attributes={"epoch": 1})
        batch = stage.register_artifacts([{"artifact_kind": "checkpoint", "path": second}])
        with pytest.raises(ConflictError):
            stage.register_artifact("checkpoint", first, artifact_ref=one.payload.artifact_ref)
    two = batch.results[0]
    refs = [str(one.payload.artifact_ref), str(two.payload.artifact_ref)]
    assert [ref.rsplit(".", 1)[1] for ref in refs] == ["model", "model-2"]
    for ref, body in zip(refs, (b"one", b"two"), strict=True):
        assert ctx.artifact_store.read_artifact_bytes(ref) == body
        assert ctx.artifact_store.verify_artifact(ref).verified
    assert one.payload.attributes["epoch"] == 1
    assert first.read_bytes() == b"one"  # default ingest mode copies


def test_missing_and_directory_artifacts(ctx, tmp_path: Path, records_of) -> None:
    with ctx.run("missing") as run:
        with pytest.raises(ArtifactError) as missing:
            run.register_artifact("checkpoint", tmp_path / "nope.bin")
        assert missing.value.code == "capture_artifact_missing"
        with pytest.raises(ArtifactError) as directory:
            run.register_artifact("checkpoint", tmp_path)
        assert directory.value.code == "capture_artifact_not_a_file"
        with pytest.raises(ValidationError):
            run.register_artifact("Not A Token", tmp_path / "x")
        tolerated = run.register_artifact("checkpoint", tmp_path / "nope.bin",
                                          allow_missing=True)
    assert tolerated.status is ResultStatus.DEGRADED
    (marker,) = records_of(ctx, run.ref, "degraded")
    assert marker.payload.issue_key == "capture.artifact_missing"
    assert marker.payload.category == "capture"


def test_open_runs_keep_a_heartbeat(make_ctx) -> None:
    ctx = make_ctx(interpretation={"diagnostics": {"stale_run_after_seconds": 0.4}})
    with ctx.run("long") as run:
        deadline = time.monotonic() + 20
        beats: set[str] = set()
        while time.monotonic() < deadline and len(beats) < 2:
            stored = ctx.metadata_store.runs.get_run(run.ref)
            beat = stored.metadata.get("contexta.heartbeat_at")
            if beat:
                beats.add(beat)
            time.sleep(0.05)
        assert len(beats) >= 2, "the heartbeat re-puts the open run periodically"
    final = ctx.metadata_store.runs.get_run(run.ref)
    assert final.status == "completed"
