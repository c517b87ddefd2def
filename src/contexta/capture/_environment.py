"""The environment snapshot stored at run start (contract §8.7).

Installed packages are listed once per process (tens of milliseconds, and a
sweep starts many runs); environment variables are read at every run start,
because they change while a process lives, and so is git state, through a
per-process cache that re-asks git only when the work tree changed (``_git``).
"""

from __future__ import annotations

import logging
import platform
import re
import shlex
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Any

from contexta.capture._git import GitState, git_state

__all__ = ["GitState", "ProcessFacts", "collect", "command_words", "git_state",
           "installed_packages", "join_words", "platform_name"]

logger = logging.getLogger(__name__)
_PEP503 = re.compile(r"[-_.]+")
_lock = threading.Lock()
_packages_cache: dict[str, str] | None = None


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
