"""Store failures never crash the job: outbox, markers, replay (contract §8.5, §11.4)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from tests.capture.outbox_cases import READ_ONLY

from contexta.capture import InMemorySink, ResultStatus
from contexta.errors import CaptureError, StoreAccessError
from contexta.recovery import ReplayBatchResult, replay_outbox


def _failing_append(*args, **kwargs):
    raise StoreAccessError("disk is full", code="store_disk_full", details={"errno": 28})


def test_read_only_workspace_spools_everything_and_replay_stores_it(
        make_ctx, records_of, tmp_path: Path) -> None:
    writer = make_ctx("outbox")
    with writer.run("before"):
        pass  # the workspace exists and holds one run
    body = tmp_path / "report.txt"
    body.write_text("report body")

    frozen = make_ctx("outbox", **READ_ONLY)
    with frozen.run("while read-only") as run:
        with run.stage("load") as stage, stage.batch("b1") as batch:
            results = [batch.metric("rows", n, step=n) for n in range(3)]
            results.append(batch.event("loaded", "three rows"))
        artifact = run.register_artifact("report_bundle", body)
    assert all(r.status is ResultStatus.DEGRADED and r.recovered_to_outbox for r in results)
    assert artifact.recovered_to_outbox
    assert run.status == "completed"
    assert [r.name for r in writer.list_runs("outbox")] == ["before"]

    replayed = replay_outbox(writer.config)
    assert isinstance(replayed, ReplayBatchResult)
    assert replayed.status == "SUCCESS", replayed.entries
    assert replayed.pending_count == 0
    assert replayed.acknowledged_count == len(replayed.entries) >= 10

    stored = writer.metadata_store.runs.get_run(run.ref)
    assert (stored.name, stored.status) == ("while read-only", "completed")
    records = records_of(writer, run.ref)
    metrics = [r for r in records if r.envelope.record_type == "metric"]
    assert sorted(m.payload.step for m in metrics) == [0, 1, 2]
    markers = [r for r in records if r.envelope.record_type == "degraded"]
    assert [m.payload.issue_key for m in markers] == ["capture.delivery_degraded"]
    assert markers[0].payload.attributes["spooled_count"] >= 10
    ref = str(artifact.payload.artifact_ref)
    assert writer.artifact_store.read_artifact_bytes(ref) == b"report body"
    assert "degraded_record" in {i.code for i in writer.diagnose_run(run.ref).issues}

    again = replay_outbox(writer.config)  # idempotent: nothing left, nothing doubled
    assert again.status == "SUCCESS"
    assert again.entries == ()
    assert len(records_of(writer, run.ref)) == len(records)


def _break_appends(patch: pytest.MonkeyPatch, store: object) -> None:
    """Make every append entry point of ``store`` fail as a full disk would."""
    for name in ("append", "append_many", "append_minted", "append_many_minted"):
        patch.setattr(store, name, _failing_append)


def test_store_failure_mid_run_leaves_a_marker_once_the_store_recovers(
        ctx, records_of, monkeypatch: pytest.MonkeyPatch) -> None:
    with ctx.run("flaky") as run, run.stage("s") as stage:
        stage.metric("ok", 1)
        with monkeypatch.context() as patch:
            _break_appends(patch, ctx.record_store)
            lost = stage.metric("spooled", 2, step=7)
            batch = stage.emit_metrics([{"key": "spooled_batch", "value": v} for v in range(3)])
        assert lost.degraded
        assert lost.recovered_to_outbox
        assert lost.replay_refs
        assert lost.payload.payload.value == 2
        assert batch.status is ResultStatus.DEGRADED
        assert batch.degraded_count == 3
        stage.metric("after", 3)
    keys = [getattr(r.payload, "metric_key", None) or r.payload.issue_key
            for r in records_of(ctx, run.ref)]
    assert keys == ["ok", "after", "capture.delivery_degraded"]  # marker once writes work

    result = replay_outbox(ctx.config)
    assert (result.status, result.acknowledged_count) == ("SUCCESS", 4)
    keys = sorted(getattr(r.payload, "metric_key", "") for r in records_of(ctx, run.ref))
    assert keys.count("spooled_batch") == 3
    assert "spooled" in keys


def test_raise_mode_and_strict_runs_raise_capture_error(
        make_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    raising = make_ctx(capture={"dispatch_failure_mode": "raise"})
    with raising.run("raise-mode") as run:
        _break_appends(monkeypatch, raising.record_store)
        with pytest.raises(CaptureError) as err:
            run.metric("x", 1)
        assert isinstance(err.value.__cause__, StoreAccessError)
        monkeypatch.undo()

    default = make_ctx()
    with default.run("strict", strict=True) as run:
        _break_appends(monkeypatch, default.record_store)
        with pytest.raises(CaptureError):
            run.event("e", "m")
        monkeypatch.undo()


def test_spooling_failure_everywhere_is_a_failure_result_not_a_crash(
        make_ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Store, outbox and fallback outbox all unwritable: the pipeline keeps running and
    gets a FAILURE result (the loss is logged); only a strict run raises."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    ctx = make_ctx(recovery={"outbox_root": str(blocker / "outbox")})
    with ctx.run("nowhere") as run:
        with monkeypatch.context() as patch:
            _break_appends(patch, ctx.record_store)
            patch.setattr(tempfile, "tempdir", str(blocker / "tmp"))  # fallbacks fail too
            patch.setenv("XDG_STATE_HOME", str(blocker / "state"))
            result = run.metric("x", 1)
            assert result.status is ResultStatus.FAILURE
            assert result.error_code == "capture_spool_failed"
    with ctx.run("nowhere, strict", strict=True) as strict:
        with monkeypatch.context() as patch:
            _break_appends(patch, ctx.record_store)
            patch.setattr(tempfile, "tempdir", str(blocker / "tmp"))
            patch.setenv("XDG_STATE_HOME", str(blocker / "state"))
            with pytest.raises(CaptureError):
                strict.metric("x", 1)


class FlakySink(InMemorySink):
    def __init__(self) -> None:
        super().__init__(name="flaky")
        self.down = True

    def capture(self, *, family, payload):
        if self.down:
            raise ConnectionError("collector unreachable")
        return super().capture(family=family, payload=payload)


def test_failing_sink_degrades_and_its_deliveries_replay_to_the_sink(make_ctx) -> None:
    sink = FlakySink()
    ctx = make_ctx(sinks=[sink], capture={"retry_attempts": 1})
    with ctx.run("sinks") as run:
        result = run.metric("x", 1)
    assert result.status is ResultStatus.DEGRADED
    assert result.degradation_reasons == ("sink_failed:flaky",)
    assert [d.sink_name for d in result.deliveries] == ["workspace", "flaky"]
    assert ctx.metadata_store.runs.get_run(run.ref).status == "completed"  # the store has it
    sink.down = False
    replayed = replay_outbox(ctx.config, target="flaky", sinks=[sink])
    assert replayed.status == "SUCCESS"
    kinds = [entry.payload_type for entry in sink.entries]
    assert "MetricRecord" in kinds
    assert replay_outbox(ctx.config, target="flaky", sinks=[sink]).entries == ()


def test_entries_failing_replay_stay_pending_then_go_to_dead_letter(ctx) -> None:
    from contexta.contract import MetricPayload, MetricRecord, RecordEnvelope, to_payload
    from contexta.recovery.outbox import Outbox

    ghost = MetricRecord(
        envelope=RecordEnvelope(record_ref="record:capture-tests.ghost.m1", record_type="metric",
                                recorded_at="2024-01-01T00:00:00Z",
                                observed_at="2024-01-01T00:00:00Z",
                                producer_ref="sdk.python.local",
                                run_ref="run:capture-tests.ghost"),
        payload=MetricPayload(metric_key="m", value=1, value_type="int"))
    outbox = Outbox(ctx.config.recovery.outbox_root)
    outbox.spool(replay_ref="replay:ghost", kind="metric", family="RECORD",
                 payload=to_payload(ghost))
    with open(outbox.pending_path, "a", encoding="utf-8") as handle:
        handle.write('{"replay_ref": "torn')  # a writer killed mid-line

    first = replay_outbox(ctx.config, dead_letter_after_failures=2)
    assert (first.status, first.pending_count, first.dead_lettered_count) == ("FAILURE", 1, 0)
    assert first.entries[0].attempts == 1
    assert "NotFoundError" in first.entries[0].detail
    assert "unreadable_outbox_lines:1" in first.warnings
    assert '"torn' in (outbox.root / "unreadable.jsonl").read_text()

    second = replay_outbox(ctx.config, dead_letter_after_failures=2)
    assert (second.pending_count, second.dead_lettered_count) == (0, 1)
    assert second.entries[0].status == "DEAD_LETTERED"
    assert "replay:ghost" in (outbox.root / "dead-letter.jsonl").read_text()
    assert replay_outbox(ctx.config).entries == ()


def test_sink_failures_leave_one_marker_at_run_close(make_ctx, records_of) -> None:
    sink = FlakySink()
    ctx = make_ctx(sinks=[sink])
    with ctx.run("sink-gap") as run:
        for value in range(5):
            assert run.metric("x", value).degraded
    markers = [r for r in records_of(ctx, run.ref, "degraded")]
    assert len(markers) == 1
    attributes = markers[0].payload.attributes
    # 5 metrics plus the context models (project, run open/close, environment)
    assert attributes["sink_failures"]["flaky"] >= 5 + 3
    assert attributes["spooled_count"] == 0
