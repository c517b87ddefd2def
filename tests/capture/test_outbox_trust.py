"""Replay trusts only what capture could have written: a fallback outbox in the shared
temp dir that is not this user's private directory is left alone, and an entry's body
path must name a file in the outbox's ``bodies/`` (never read or delete anything else)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tests.capture.outbox_cases import READ_ONLY

from contexta.recovery import replay_outbox
from contexta.recovery.outbox import Outbox, fallback_outbox_root


def _spool_to_fallback(make_ctx) -> tuple[object, str, Path]:
    writer = make_ctx("trust")
    with writer.run("before"):
        pass
    root = Path(writer.config.recovery.outbox_root)
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("a file where the outbox directory belongs")
    with make_ctx("trust", **READ_ONLY).run("while frozen") as run:
        run.metric("rows", 3)
    root.unlink()
    fallback = fallback_outbox_root(root)
    assert Outbox(fallback, fallback=False).pending_path.exists()
    return writer, run.ref, fallback


def test_a_fallback_outbox_writable_by_others_is_not_replayed(make_ctx, temp_dir: Path) -> None:
    writer, run_ref, fallback = _spool_to_fallback(make_ctx)
    os.chmod(fallback, 0o777)  # as if planted, or opened up, by someone else
    before = Outbox(fallback, fallback=False).pending_path.read_bytes()

    result = replay_outbox(writer.config)
    assert result.status == "DEGRADED"
    assert any(w.startswith("fallback_outbox_not_private:") for w in result.warnings)
    assert Outbox(fallback, fallback=False).pending_path.read_bytes() == before
    assert [r.name for r in writer.list_runs("trust")] == ["before"]

    os.chmod(fallback, 0o700)
    assert replay_outbox(writer.config).status == "SUCCESS"
    assert writer.metadata_store.runs.get_run(run_ref).status == "completed"


@pytest.mark.parametrize("body", ["{victim}", "bodies/../../{name}", "../{name}", "bodies/a/b"])
def test_an_entry_body_outside_the_outbox_is_neither_read_nor_deleted(
        make_ctx, tmp_path: Path, temp_dir: Path, body: str) -> None:
    writer = make_ctx("trust")
    with writer.run("with artifact") as run:
        source = tmp_path / "model.bin"
        source.write_bytes(b"weights")
        stored = run.register_artifact("model", source)
    victim = tmp_path / "victim.txt"
    victim.write_text("secret")
    outbox = Outbox(Path(writer.config.recovery.outbox_root), fallback=False)
    entry = {"replay_ref": "replay:planted", "kind": "artifact", "family": "ARTIFACT",
             "payload": stored.payload.to_dict(),
             "body": body.format(victim=victim, name=os.path.relpath(victim, tmp_path))}
    outbox.root.mkdir(parents=True, exist_ok=True)
    outbox.pending_path.write_text(json.dumps(entry) + "\n", encoding="utf-8")

    result = replay_outbox(writer.config)
    assert result.status != "SUCCESS"
    (failed,) = result.entries
    assert "is not a spooled artifact body" in failed.detail
    assert victim.read_text() == "secret"


def test_keeping_successes_reports_them_pending_not_acknowledged(make_ctx,
                                                                 temp_dir: Path) -> None:
    writer, run_ref, fallback = _spool_to_fallback(make_ctx)
    spooled = len(Outbox(fallback, fallback=False).read_entries()[0])

    kept = replay_outbox(writer.config, acknowledge_successes=False)
    assert kept.status == "SUCCESS"
    assert (kept.acknowledged_count, kept.pending_count) == (0, spooled)
    assert writer.metadata_store.runs.get_run(run_ref).status == "completed"
    assert len(Outbox(fallback, fallback=False).read_entries()[0]) == spooled

    done = replay_outbox(writer.config)  # stored already: acknowledged now, nothing doubled
    assert done.status == "SUCCESS"
    assert (done.acknowledged_count, done.pending_count) == (spooled, 0)
