"""Environment snapshot and redaction (contract §8.7)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FULL_CAPTURE = {"capture": {"capture_installed_packages": True, "capture_code_revision": True}}


def _snapshot(ctx, run_ref: str):
    (snapshot,) = ctx.metadata_store.environments.list_environment_snapshots(run_ref)
    return snapshot


def test_secrets_are_redacted_in_the_stored_environment(
        make_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_API_TOKEN", "zz-tok-123")
    monkeypatch.setenv("DB_PASSWORD", "zz-hunter2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "zz-aws-secret")
    monkeypatch.setenv("PUBLIC_SETTING", "visible")
    monkeypatch.setenv("SSH_AUTH_KEY_ALLOWED", "allowed-value")
    ctx = make_ctx(security={"environment_variable_allowlist": ["SSH_AUTH_KEY_ALLOWED"]})
    with ctx.run("redacted", metadata={"service": {"api_key": "zz-key-v", "region": "eu"}},
                 tags={"auth_token": "zz-token-v", "team": "ml"}) as run:
        run.event("connect", "connected", attributes={"password": "zz-pw-v", "host": "db"})
    env = _snapshot(ctx, run.ref).environment_variables
    assert env["MY_API_TOKEN"] == "[REDACTED]"
    assert env["DB_PASSWORD"] == "[REDACTED]"
    assert env["AWS_SECRET_ACCESS_KEY"] == "[REDACTED]"
    assert env["PUBLIC_SETTING"] == "visible"
    assert env["SSH_AUTH_KEY_ALLOWED"] == "allowed-value"
    stored = ctx.metadata_store.runs.get_run(run.ref)
    assert stored.metadata["service"] == {"api_key": "[REDACTED]", "region": "eu"}
    assert stored.tags["auth_token"] == "[REDACTED]"
    assert stored.tags["team"] == "ml"
    from contexta.store.records import ScanFilter

    (event,) = [s.record for s in ctx.record_store.scan(ScanFilter(run_ref=run.ref))]
    assert event.payload.attributes["password"] == "[REDACTED]"
    assert event.payload.attributes["host"] == "db"
    text = repr(stored) + repr(_snapshot(ctx, run.ref)) + repr(event)
    secrets = ("zz-tok-123", "zz-hunter2", "zz-aws-secret", "zz-key-v", "zz-token-v", "zz-pw-v")
    for secret in secrets:
        assert secret not in text


def test_strict_and_off_redaction_modes(make_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_API_TOKEN", "zz-tok-123")
    monkeypatch.setenv("PUBLIC_SETTING", "visible")
    strict = make_ctx(security={"redaction_mode": "strict",
                                "environment_variable_allowlist": ["PUBLIC_SETTING"]})
    with strict.run("strict") as run:
        pass
    assert dict(_snapshot(strict, run.ref).environment_variables) == {"PUBLIC_SETTING": "visible"}
    off = make_ctx(security={"redaction_mode": "off"})
    with off.run("off", metadata={"api_key": "k"}) as run:
        pass
    assert _snapshot(off, run.ref).environment_variables["MY_API_TOKEN"] == "zz-tok-123"
    assert off.metadata_store.runs.get_run(run.ref).metadata["api_key"] == "k"


def test_snapshot_has_python_platform_host_and_pep503_packages(make_ctx) -> None:
    ctx = make_ctx(**FULL_CAPTURE)
    with ctx.run("env") as run:
        pass
    snapshot = _snapshot(ctx, run.ref)
    assert str(snapshot.environment_snapshot_ref) == f"environment:{run.ref[4:]}.runtime"
    assert snapshot.python_version == ".".join(map(str, sys.version_info[:3]))
    assert snapshot.platform == "linux"
    assert snapshot.hostname
    assert "sqlalchemy" in snapshot.packages
    assert all(name == name.lower() and "_" not in name for name in snapshot.packages)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_branch_and_dirty_flag(
        make_ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], check=True,
                              capture_output=True, text=True).stdout.strip()

    git("init", "-q", "-b", "feature-x")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
        "--allow-empty", "-m", "init")
    head = git("rev-parse", "HEAD")
    monkeypatch.chdir(repo)
    ctx = make_ctx(**FULL_CAPTURE)
    with ctx.run("clean") as clean:
        pass
    (repo / "untracked.txt").write_text("change")
    with ctx.run("dirty") as dirty:
        pass
    clean_snapshot, dirty_snapshot = _snapshot(ctx, clean.ref), _snapshot(ctx, dirty.ref)
    assert (clean_snapshot.git_commit, clean_snapshot.git_dirty) == (head, False)
    assert (dirty_snapshot.git_commit, dirty_snapshot.git_dirty) == (head, True)
    run = ctx.metadata_store.runs.get_run(clean.ref)
    assert run.metadata["contexta.git_branch"] == "feature-x"
    audit = ctx.audit_reproducibility(clean.ref)
    assert audit.environment_ref == f"environment:{clean.ref[4:]}.runtime"
    assert audit.code_revision == head


def test_outside_a_repository_git_fields_stay_empty(
        make_ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ctx = make_ctx(**FULL_CAPTURE)
    with ctx.run("no-git") as run:
        pass
    snapshot = _snapshot(ctx, run.ref)
    assert (snapshot.git_commit, snapshot.git_dirty) == (None, None)


def test_command_line_flags_with_secret_names_are_masked(
        make_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py", "--api-token=abc", "--password", "pw",
                                      "--epochs", "3"])
    ctx = make_ctx()
    with ctx.run("argv") as run:
        pass
    line = ctx.metadata_store.runs.get_run(run.ref).metadata["contexta.command_line"]
    assert "abc" not in line
    assert " pw" not in line
    assert "--api-token=[REDACTED]" in line
    assert "--epochs 3" in line


def test_compare_environments_between_captured_runs(make_ctx, monkeypatch) -> None:
    ctx = make_ctx()
    monkeypatch.setenv("STAGE_LABEL", "one")
    with ctx.run("left") as left:
        pass
    monkeypatch.setenv("STAGE_LABEL", "two")
    with ctx.run("right") as right:
        pass
    diff = ctx.compare_environments(left.ref, right.ref)
    changed = {change.key: (change.left_value, change.right_value)
               for change in diff.changed_variables}
    assert changed["STAGE_LABEL"] == ("one", "two")
