"""The outbox falls back outside the workspace when its own disk fails (contract §8.5, §11.4).

The default outbox lives in ``<workspace>/cache/outbox``, on the very file system
that is full or read-only when the store fails. These tests make that happen at
the OS edge: a real full tmpfs inside a private mount namespace (skipped where it
cannot be mounted), and, everywhere, an outbox root whose parent is a regular file
(ENOTDIR). The fallbacks go to ``$XDG_STATE_HOME`` and then ``tempfile.gettempdir()``,
both pointed into pytest's temp dirs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from tests.capture.outbox_cases import READ_ONLY

from contexta.capture import ResultStatus
from contexta.contract import Project, to_payload
from contexta.errors import CaptureError
from contexta.recovery import replay_outbox
from contexta.recovery.outbox import Outbox, fallback_outbox_root, fallback_outbox_roots

REPO = Path(__file__).resolve().parents[2]



@pytest.fixture
def blocked_root(tmp_path: Path) -> str:
    """An outbox root below a regular file: every write there fails with ENOTDIR."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    return str(blocker / "outbox")


def _pending(root: Path) -> list[dict]:
    entries, broken = Outbox(root, fallback=False).read_entries()
    assert broken == []
    return entries


def test_fallback_roots_are_private_stable_and_outside_the_workspace(
        temp_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws" / "cache" / "outbox"
    state, temp = fallback_outbox_roots(root)
    assert (state, temp) == fallback_outbox_roots(str(root))  # capture and replay agree
    assert state != fallback_outbox_roots(tmp_path / "other")[0]
    assert state == fallback_outbox_root(root)  # the state directory is tried first …
    assert state.parent == Path(os.environ["XDG_STATE_HOME"]) / "contexta-outbox"
    assert temp.parent.parent == temp_dir  # … then the temp dir
    assert state.name == temp.name
    assert len(state.name) == 16
    outbox = Outbox(tmp_path / "a-file-parent")
    (tmp_path / "a-file-parent").write_text("x")
    outbox.spool(replay_ref="replay:x", kind="metric", family="RECORD", payload={"a": 1})
    used = fallback_outbox_root(outbox.root)
    assert (used.stat().st_mode & 0o777) == 0o700
    assert (used.parent.stat().st_mode & 0o777) == 0o700


def test_the_temp_dir_takes_captures_when_the_state_directory_cannot(
        temp_dir: Path, tmp_path: Path, blocked_root: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(Path(blocked_root).parent / "state"))  # ENOTDIR
    Outbox(blocked_root).spool(replay_ref="replay:x", kind="metric", family="RECORD",
                               payload={})
    temp = fallback_outbox_roots(blocked_root)[-1]
    assert [entry["replay_ref"] for entry in _pending(temp)] == ["replay:x"]


def test_a_different_tmpdir_at_replay_time_still_finds_the_captures(
        make_ctx, records_of, tmp_path: Path, blocked_root: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """cron, systemd PrivateTmp and containers change TMPDIR between capture and replay."""
    writer = make_ctx("moved", recovery={"outbox_root": blocked_root})
    with writer.run("before"):
        pass
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp-of-the-job"))
    with make_ctx("moved", recovery={"outbox_root": blocked_root}, **READ_ONLY).run(
            "while frozen") as run:
        run.metric("rows", 3)
    Path(blocked_root).parent.unlink()  # the outbox location is usable again
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp-of-the-operator"))
    replayed = replay_outbox(writer.config)
    assert replayed.status == "SUCCESS"
    assert writer.metadata_store.runs.get_run(run.ref).status == "completed"
    assert [m.payload.value for m in records_of(writer, run.ref, "metric")] == [3]


def test_unwritable_outbox_falls_back_and_replay_completes_the_run(
        make_ctx, records_of, temp_dir: Path, blocked_root: str,
        caplog: pytest.LogCaptureFixture) -> None:
    writer = make_ctx("ro", recovery={"outbox_root": blocked_root})
    with writer.run("before"):
        pass
    frozen = make_ctx("ro", recovery={"outbox_root": blocked_root}, **READ_ONLY)
    with caplog.at_level(logging.WARNING, logger="contexta.recovery.outbox"), \
            frozen.run("while read-only") as run, run.stage("load") as stage:
        results = [stage.metric("rows", n, step=n) for n in range(3)]
        results.append(stage.event("loaded", "three rows"))
    assert all(r.status is ResultStatus.DEGRADED and r.recovered_to_outbox for r in results)
    fallback = fallback_outbox_root(blocked_root)
    warnings = [r.getMessage() for r in caplog.records if "cannot be written" in r.getMessage()]
    assert len(warnings) == 1  # once, naming both places
    assert blocked_root in warnings[0]
    assert str(fallback) in warnings[0]
    spooled = _pending(fallback)
    kinds = [entry["kind"] for entry in spooled]
    assert kinds.count("metric") == 3
    assert "event" in kinds
    assert kinds.count("stage") == 2
    assert kinds.count("run") == 2

    replayed = replay_outbox(writer.config)
    assert (replayed.status, replayed.pending_count) == ("SUCCESS", 0), replayed.entries
    assert replayed.acknowledged_count == len(spooled)
    assert replayed.details["fallback_outbox_root"] == str(fallback)
    stored = writer.metadata_store.runs.get_run(run.ref)
    assert (stored.name, stored.status) == ("while read-only", "completed")
    count = len(records_of(writer, run.ref))
    assert sorted(r.payload.step for r in records_of(writer, run.ref, "metric")) == [0, 1, 2]

    again = replay_outbox(writer.config)
    assert (again.status, again.entries) == ("SUCCESS", ())
    assert len(records_of(writer, run.ref)) == count
    assert _pending(fallback) == []
    assert not (fallback / "bodies").exists() or not any((fallback / "bodies").iterdir())


def test_replay_takes_both_places_and_limit_counts_across_them(
        ctx, temp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(ctx.config.recovery.outbox_root)
    Outbox(root).spool(replay_ref="replay:a", kind="metric", family="RECORD",
                       payload={"bad": 1}, target="nowhere")
    Outbox(fallback_outbox_root(root), fallback=False).spool(
        replay_ref="replay:b", kind="metric", family="RECORD", payload={"bad": 2},
        target="nowhere")

    class Sink:
        name = "nowhere"

        def __init__(self) -> None:
            self.got: list[object] = []

        def capture(self, *, family, payload):
            self.got.append(payload)

    import contexta.recovery.outbox as outbox_module

    sink = Sink()
    monkeypatch.setattr(outbox_module, "load_entry_model", lambda entry: entry["payload"])
    first = replay_outbox(ctx.config, target="nowhere", sinks=[sink], limit=1)
    assert [e.replay_ref for e in first.entries] == ["replay:a"]
    rest = replay_outbox(ctx.config, target="nowhere", sinks=[sink])
    assert [e.replay_ref for e in rest.entries] == ["replay:b"]
    assert sink.got == [{"bad": 1}, {"bad": 2}]
    assert _pending(root) == []
    assert _pending(fallback_outbox_root(root)) == []


def test_both_outboxes_failing_returns_failure_and_logs_an_error(
        make_ctx, tmp_path: Path, blocked_root: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(Path(blocked_root).parent / "tmp"))  # ENOTDIR
    monkeypatch.setenv("XDG_STATE_HOME", str(Path(blocked_root).parent / "state"))
    writer = make_ctx("lost", recovery={"outbox_root": blocked_root})
    with writer.run("before"):
        pass
    frozen = make_ctx("lost", recovery={"outbox_root": blocked_root}, **READ_ONLY)
    with caplog.at_level(logging.ERROR, logger="contexta.capture._writer"), \
            frozen.run("nowhere") as run:
        result = run.metric("x", 1)
        batch = run.emit_metrics([{"key": "y", "value": v} for v in range(2)])
    assert result.status is ResultStatus.FAILURE
    assert result.error_code == "capture_spool_failed"
    assert not result.recovered_to_outbox
    assert batch.status is ResultStatus.FAILURE
    assert batch.failure_count == 2
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors
    assert all("lost" in r.getMessage() for r in errors)
    assert any("2 capture(s) lost" in r.getMessage() for r in errors)  # the batch, counted

    strict = make_ctx("lost", recovery={"outbox_root": blocked_root}, **READ_ONLY)
    with pytest.raises(CaptureError):
        strict.run("strict", strict=True).__enter__()
    raising = make_ctx("lost", recovery={"outbox_root": blocked_root},
                       capture={"dispatch_failure_mode": "raise"}, **READ_ONLY)
    with pytest.raises(CaptureError):
        raising.run("raise-mode").__enter__()


def test_fallback_directory_owned_by_someone_else_is_refused(
        temp_dir: Path, blocked_root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(Path(blocked_root).parent / "state"))  # ENOTDIR
    fallback = fallback_outbox_roots(blocked_root)[-1]  # only the temp dir is left
    fallback.parent.parent.joinpath("elsewhere").mkdir()
    fallback.parent.symlink_to(fallback.parent.parent / "elsewhere")  # planted, not ours
    with pytest.raises(CaptureError) as caught:
        Outbox(blocked_root).spool(replay_ref="replay:x", kind="metric", family="RECORD",
                                   payload={})
    assert caught.value.code == "capture_spool_failed"
    assert not list((fallback.parent.parent / "elsewhere").iterdir())


def _spool_project(config, name: str) -> None:
    project = Project(project_ref="project:ro", name=name, created_at="2030-01-01T00:00:00Z")
    Outbox(config.recovery.outbox_root).spool(replay_ref=f"replay:{name}", kind="project",
                                              family="CONTEXT", payload=to_payload(project))


def test_spooled_project_that_exists_with_the_same_name_replays_as_success(
        make_ctx, temp_dir: Path) -> None:
    ctx = make_ctx("ro")
    with ctx.run("r"):
        pass
    stored = ctx.metadata_store.projects.get_project("project:ro")
    _spool_project(ctx.config, stored.name)
    result = replay_outbox(ctx.config)
    assert (result.status, result.pending_count) == ("SUCCESS", 0), result.entries
    assert "already stored" in result.entries[0].detail
    assert ctx.metadata_store.projects.get_project("project:ro").created_at == stored.created_at

    _spool_project(ctx.config, "another name")
    conflict = replay_outbox(ctx.config)
    assert (conflict.status, conflict.pending_count) == ("FAILURE", 1)
    assert "Conflict" in conflict.entries[0].detail


_FULL_DISK_SCRIPT = textwrap.dedent("""
    import json, shutil, sys, tempfile
    from pathlib import Path
    from contexta import Contexta
    from contexta.config import merge_config_patch
    from contexta.recovery import replay_outbox
    from contexta.recovery.outbox import Outbox, fallback_outbox_root, fallback_outbox_roots

    disk, tempfile.tempdir = Path(sys.argv[1]), sys.argv[2]
    config = merge_config_patch({"capture": {"capture_installed_packages": False,
                                             "capture_code_revision": False}},
                                {"project_name": "full"})
    ctx = Contexta(workspace=str(disk / "ws"), config=config)
    with ctx.run("before"):
        pass
    ballast = disk / "ballast.bin"
    with ballast.open("wb") as handle:
        try:
            handle.write(b"\\0" * (shutil.disk_usage(disk).free + 65536))
        except OSError:
            pass  # full
    with ctx.run("during") as run, run.stage("s") as stage:
        results = [stage.metric("m", i, step=i) for i in range(3)]
        results.append(stage.event("e", "message"))
    root = ctx.config.recovery.outbox_root
    fallback = Outbox(fallback_outbox_root(root), fallback=False)
    out = {"results": [[str(r.status), r.recovered_to_outbox] for r in results],
           "fallback": len(fallback.read_entries()[0]),
           "primary": len(Outbox(root, fallback=False).read_entries()[0])}
    ballast.unlink()  # space freed
    replayed = replay_outbox(ctx.config)
    out["replay"] = [replayed.status, replayed.acknowledged_count, replayed.pending_count]
    ctx.close()
    with Contexta(workspace=str(disk / "ws"), config=config) as fresh:
        out["run_status"] = fresh.metadata_store.runs.get_run(run.ref).status
        out["metrics"] = fresh.record_store.count_records()
        again = replay_outbox(fresh.config)
        out["again"] = [again.status, len(again.entries)]
        out["metrics_after"] = fresh.record_store.count_records()
    out["fallback_after"] = len(fallback.read_entries()[0])
    print(json.dumps(out))
""")


def test_real_full_disk_spools_outside_the_workspace_and_replays(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("a private tmpfs needs root and unshare")
    disk, temp = tmp_path / "disk", tmp_path / "tmp"
    disk.mkdir()
    temp.mkdir()
    script = tmp_path / "scenario.py"
    script.write_text(_FULL_DISK_SCRIPT)
    shell = (f'mount -t tmpfs -o size=4m tmpfs "{disk}" || exit 97; '
             f'exec "{sys.executable}" "{script}" "{disk}" "{temp}"')
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", shell],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    if done.returncode == 97 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot mount a private tmpfs here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["results"] == [["DEGRADED", True]] * 4
    assert out["primary"] == 0
    assert out["fallback"] >= 8
    assert out["replay"] == ["SUCCESS", out["fallback"], 0]
    assert out["run_status"] == "completed"
    assert out["again"] == ["SUCCESS", 0]
    assert out["metrics_after"] == out["metrics"]
    assert out["fallback_after"] == 0
