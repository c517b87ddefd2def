"""Replay restores a run whose captures were split between the two outboxes (§11.4).

A read-only episode spools to the fallback outbox outside the workspace while the
workspace outbox cannot be written; once it can again (mid-run), later captures go
there. The run's opening entries are then in the fallback and its closing ones in
the workspace outbox. The workspace outbox is made unwritable the way root cannot
bypass: a regular file sits where its directory should be (``mkdir`` fails with
``EEXIST``), and is removed mid-run. The stores stay read-only via config, as in
test_outbox.py, so every capture of the run is spooled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from tests.capture.outbox_cases import READ_ONLY

from contexta import Contexta
from contexta.recovery import replay_outbox
from contexta.recovery.outbox import Outbox, fallback_outbox_root
from contexta.surfaces.cli import main


def _pending(root: Path) -> list[dict[str, Any]]:
    entries, broken = Outbox(root, fallback=False).read_entries()
    assert broken == []
    return entries


def _split_run(make_ctx: Callable[..., Contexta]) -> tuple[Contexta, str]:
    """Capture run ``split`` with its first half in the fallback, the rest in the workspace."""
    writer = make_ctx("split")
    with writer.run("before"):
        pass
    root = Path(writer.config.recovery.outbox_root)
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("a file where the outbox directory belongs")  # the outbox is unwritable
    frozen = make_ctx("split", **READ_ONLY)
    with frozen.run("split") as run:
        with run.stage("s1") as stage:
            stage.metric("m1", 1)
        root.unlink()  # the workspace outbox is writable again, mid-run
        with run.stage("s2") as stage:
            stage.metric("m2", 2)
            stage.metric("m3", 3)
    kinds = [entry["kind"] for entry in _pending(fallback_outbox_root(root))]
    assert "run" in kinds  # the run opened in the fallback …
    assert "metric" in kinds
    later = _pending(root)
    assert [e["payload"].get("status") for e in later if e["kind"] == "run"] == ["completed"]
    return writer, run.ref  # … and closed in the workspace outbox


def _assert_restored(ctx: Contexta, run_ref: str, records_of: Callable[..., list[Any]]) -> None:
    assert ctx.metadata_store.runs.get_run(run_ref).status == "completed"
    stages = ctx.metadata_store.stages.list_stage_executions(run_ref)
    assert sorted((s.stage_name, s.status) for s in stages) == [
        ("s1", "completed"), ("s2", "completed")]
    metrics = records_of(ctx, run_ref, "metric")
    assert sorted(m.payload.metric_key for m in metrics) == ["m1", "m2", "m3"]


def test_one_replay_restores_a_run_split_between_both_outboxes(
        make_ctx, records_of, temp_dir: Path) -> None:
    writer, run_ref = _split_run(make_ctx)
    root = Path(writer.config.recovery.outbox_root)

    result = replay_outbox(writer.config, dead_letter_after_failures=1)
    assert (result.status, result.pending_count, result.dead_lettered_count) == (
        "SUCCESS", 0, 0), [e for e in result.entries if e.status != "SUCCESS"]
    assert all(entry.attempts == 1 for entry in result.entries)
    assert not (root / "dead-letter.jsonl").exists()
    assert not (fallback_outbox_root(root) / "dead-letter.jsonl").exists()
    _assert_restored(writer, run_ref, records_of)
    count = len(records_of(writer, run_ref))

    again = replay_outbox(writer.config)  # nothing left, nothing stored twice
    assert (again.status, again.entries) == ("SUCCESS", ())
    assert len(records_of(writer, run_ref)) == count
    assert _pending(root) == []
    assert _pending(fallback_outbox_root(root)) == []


def test_recover_outbox_command_restores_a_split_run_in_one_call(
        make_ctx, records_of, workspace: Path, temp_dir: Path) -> None:
    writer, run_ref = _split_run(make_ctx)
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        code = main(["--workspace", str(workspace), "recover", "outbox",
                     "--dead-letter-after", "1"])
    assert code == 0, (out.getvalue().decode(), err.getvalue().decode())
    assert out.getvalue().decode().startswith("SUCCESS: ")
    assert ", 0 pending, 0 dead-lettered" in out.getvalue().decode()
    _assert_restored(writer, run_ref, records_of)


def test_split_entries_without_stamps_still_replay_in_one_call(
        make_ctx, records_of, temp_dir: Path) -> None:
    """Entries spooled by a version that did not stamp them: the retries alone suffice."""
    writer, run_ref = _split_run(make_ctx)
    root = Path(writer.config.recovery.outbox_root)
    for where in (root, fallback_outbox_root(root)):
        Outbox(where).rewrite([{k: v for k, v in entry.items() if k != "spooled_ns"}
                               for entry in _pending(where)])

    result = replay_outbox(writer.config, dead_letter_after_failures=1)
    assert (result.status, result.pending_count, result.dead_lettered_count) == (
        "SUCCESS", 0, 0), [e for e in result.entries if e.status != "SUCCESS"]
    _assert_restored(writer, run_ref, records_of)
