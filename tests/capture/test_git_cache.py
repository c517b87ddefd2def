"""Git state is cached per process yet follows every change to the tree (contract §8.7).

Run starts reuse the last ``git status`` answer while the fingerprint of the work tree
(``lstat`` of tracked files, non-ignored directories and git's own files) is unchanged.
These tests change the tree between runs in every way that flips commit, branch or the
dirty flag, and check that each run's stored snapshot tells the truth.

File timestamps are coarse (a clock tick can be milliseconds), so a change made in the
same tick as the fingerprint would keep its ``lstat``. Production code refuses to cache
a fingerprint with paths changed less than ``_RACY_NS`` before git looked; the test
instead turns that margin off and sets every work-tree mtime into the past before a
run, so each later change moves an mtime (or an inode) and is seen deterministically.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contexta.capture import _git

FULL_CAPTURE = {"capture": {"capture_installed_packages": False, "capture_code_revision": True}}
PAST = 1_000_000_000  # 2001: older than anything the test writes

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git_cmd(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.com",
                           "-c", "user.name=t", *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def _settle(repo: Path) -> None:
    """Every work-tree path gets an old mtime, so any later change moves it."""
    for current, dirs, files in os.walk(repo):
        dirs[:] = [name for name in dirs if name != ".git"]
        for name in [*dirs, *files]:
            os.utime(os.path.join(current, name), (PAST, PAST), follow_symlinks=False)
    os.utime(repo, (PAST, PAST))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "a" / "b").mkdir(parents=True)
    (root / "ign").mkdir()
    (root / "ign" / "cache.bin").write_bytes(b"ignored")  # git lists only non-empty dirs
    (root / "a" / "b" / "f.txt").write_text("tracked\n")
    (root / ".gitignore").write_text("ign/\n")
    _git_cmd(root, "init", "-q", "-b", "main")
    _git_cmd(root, "add", ".")
    _git_cmd(root, "commit", "-q", "-m", "init")
    monkeypatch.chdir(root)
    monkeypatch.setattr(_git, "_RACY_NS", -(10**18))  # see the module docstring
    _git.clear_cache()
    yield root
    _git.clear_cache()


@pytest.fixture
def git_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The git subcommand of every process capture starts (calls pass through unchanged)."""
    calls: list[str] = []
    real = _git._run

    def counting(command: tuple[str, ...], cwd: str, deadline: float) -> bytes | None:
        calls.append(next(word for word in command[1:] if not word.startswith("-")))
        return real(command, cwd, deadline)

    monkeypatch.setattr(_git, "_run", counting)
    return calls


@pytest.fixture
def status_calls(git_calls: list[str]) -> list[str]:
    return git_calls


def _state_of(ctx: Any) -> Callable[[str], tuple[Any, ...]]:
    def run_once(name: str) -> tuple[Any, ...]:
        with ctx.run(name) as run:
            pass
        (snapshot,) = ctx.metadata_store.environments.list_environment_snapshots(run.ref)
        branch = ctx.metadata_store.runs.get_run(run.ref).metadata.get("contexta.git_branch")
        return snapshot.git_commit, branch, snapshot.git_dirty

    return run_once


def test_cached_git_state_follows_every_change_to_the_tree(
        make_ctx, repo: Path, status_calls: list[Any]) -> None:
    state = _state_of(make_ctx(**FULL_CAPTURE))
    head = _git_cmd(repo, "rev-parse", "HEAD")
    tracked = repo / "a" / "b" / "f.txt"

    _settle(repo)
    assert state("first") == (head, "main", False)
    assert status_calls == ["status", "ls-files"]
    assert state("unchanged tree") == (head, "main", False)
    assert status_calls == ["status", "ls-files"]  # answered from the cache, no process

    tracked.write_text("tracked, edited\n")
    assert state("tracked file edited") == (head, "main", True)
    assert status_calls[2:] == ["status"]  # the index is unchanged: tracked list reused

    _git_cmd(repo, "checkout", "--", "a/b/f.txt")
    _settle(repo)
    assert state("edit reverted") == (head, "main", False)

    (repo / "a" / "b" / "new.txt").write_text("untracked\n")
    _settle(repo)
    assert state("untracked file") == (head, "main", True)

    (repo / "a" / "b" / "new.txt").unlink()
    assert state("untracked file removed") == (head, "main", False)

    asked = len(status_calls)
    (repo / "ign" / "scratch.bin").write_bytes(b"ignored")
    assert state("ignored file written") == (head, "main", False)
    assert len(status_calls) == asked  # an ignored directory is not watched

    _git_cmd(repo, "commit", "-q", "--allow-empty", "-m", "second")
    second = _git_cmd(repo, "rev-parse", "HEAD")
    assert second != head
    assert state("new commit") == (second, "main", False)

    _git_cmd(repo, "checkout", "-q", "-b", "feature")
    assert state("new branch") == (second, "feature", False)


def test_a_tree_that_keeps_changing_is_asked_every_time(
        make_ctx, repo: Path, status_calls: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # With the production margin, paths written moments ago make the answer untrusted.
    monkeypatch.setattr(_git, "_RACY_NS", 2_000_000_000)
    state = _state_of(make_ctx(**FULL_CAPTURE))
    (repo / "a" / "b" / "f.txt").write_text("just now\n")
    assert state("one")[2] is True
    assert state("two")[2] is True
    assert status_calls == ["status", "status"]  # too fresh to fingerprint: no file list


def test_outside_a_repository_no_git_process_is_started(
        make_ctx, tmp_path: Path, status_calls: list[Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    assert _state_of(make_ctx(**FULL_CAPTURE))("no repo") == (None, None, None)
    assert status_calls == []


def test_parse_status_reads_nul_separated_porcelain_v2() -> None:
    oid = "0123456789abcdef0123456789abcdef01234567"
    text = "\0".join([
        f"# branch.oid {oid}", "# branch.head (detached)",
        "2 R. N... 100644 100644 100644 aa bb R100 new name.txt", "# looks like a header",
        "! .venv/", "! build/", "! notes.log", "",
    ])
    state, ignored = _git.parse_status(text)
    assert state == _git.GitState(oid, None, True)
    assert ignored == [".venv/", "build/"]
    clean, _ = _git.parse_status(f"# branch.oid {oid}\0# branch.head main\0! .venv/\0")
    assert clean == _git.GitState(oid, "main", False)


def test_trees_too_big_to_fingerprint_are_always_asked(
        make_ctx, repo: Path, status_calls: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_git, "_MAX_WATCHED", 2)  # this small repo now counts as huge
    state = _state_of(make_ctx(**FULL_CAPTURE))
    head = _git_cmd(repo, "rev-parse", "HEAD")
    _settle(repo)
    assert state("one") == (head, "main", False)
    (repo / "a" / "b" / "f.txt").write_text("edited\n")
    assert state("two") == (head, "main", True)
    assert status_calls == ["status", "status"]  # no file list, no cached answer
