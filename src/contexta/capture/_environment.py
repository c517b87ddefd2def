"""The environment snapshot stored at run start (contract §8.7).

Installed packages are listed once per process (tens of milliseconds, and a
sweep starts many runs); git state and environment variables are read at
every run start, because they change while a process lives.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["GitState", "ProcessFacts", "collect", "command_words", "git_state",
           "installed_packages", "join_words", "platform_name"]

logger = logging.getLogger(__name__)
_GIT_TIMEOUT_SECONDS = 2.0
_PEP503 = re.compile(r"[-_.]+")
_HEX = re.compile(r"^[0-9a-f]{7,64}$")
_lock = threading.Lock()
_packages_cache: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class GitState:
    """HEAD commit, branch and dirty flag of the work tree holding a directory."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


def platform_name() -> str:
    """Short OS name: ``linux``, ``darwin``, ``windows``, else ``sys.platform``."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "darwin"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    return sys.platform


def installed_packages() -> dict[str, str]:
    """Every installed distribution, PEP 503 name → version (first on sys.path wins)."""
    global _packages_cache
    with _lock:
        if _packages_cache is None:
            from importlib.metadata import distributions

            found: dict[str, str] = {}
            for dist in distributions():
                try:
                    name = dist.metadata["Name"]
                    version = dist.version
                except Exception:  # a broken dist-info must not stop the run
                    continue
                if name and version:
                    found.setdefault(_PEP503.sub("-", str(name)).lower(), str(version))
            _packages_cache = dict(sorted(found.items()))
        return dict(_packages_cache)


def _parse_status(text: str) -> GitState:
    commit = branch = None
    dirty = False
    for line in text.splitlines():
        if line.startswith("# branch.oid "):
            oid = line.removeprefix("# branch.oid ").strip()
            commit = oid if _HEX.match(oid) else None
        elif line.startswith("# branch.head "):
            head = line.removeprefix("# branch.head ").strip()
            branch = None if head == "(detached)" else head
        elif line and not line.startswith("#"):
            dirty = True
    return GitState(commit, branch, dirty)


def git_state(directory: str | None = None) -> GitState:
    """Git facts for ``directory`` (default: cwd) within 2 s; empty when unknown.

    Not cached: the dirty flag must describe the tree when each run starts.
    """
    where = os.path.abspath(directory or os.getcwd())
    try:
        completed = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=normal"],
            cwd=where, capture_output=True, text=True, timeout=_GIT_TIMEOUT_SECONDS,
            check=False, stdin=subprocess.DEVNULL,
        )
        state = _parse_status(completed.stdout) if completed.returncode == 0 else GitState()
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        logger.debug("git state unavailable in %s: %s", where, exc)
        state = GitState()
    return state


def command_words() -> list[str]:
    """The interpreter and ``sys.argv``, as the process was started."""
    return [sys.executable, *sys.argv]


def join_words(words: list[str]) -> str:
    """Shell-quoted command line."""
    return shlex.join(words)


@dataclass(frozen=True, slots=True)
class ProcessFacts:
    """What one run start needs to know about this process."""

    python_version: str
    platform: str
    hostname: str
    packages: dict[str, str]


def collect(config: Any) -> ProcessFacts:
    """Gather the per-process facts the ``capture.*`` switches ask for."""
    capture = config.capture
    packages = installed_packages() if capture.capture_installed_packages else {}
    return ProcessFacts(
        python_version=platform.python_version(),
        platform=platform_name(),
        hostname=socket.gethostname(),
        packages=packages,
    )
