"""Git facts for the environment snapshot (contract §8.7), without a process per run start.

``git status`` costs a process spawn (5-10 ms with a large interpreter) at every run
start, more than a whole demo night may spend on capture. The answer is cached per work
tree together with a *fingerprint*: the ``lstat`` of every path whose change could alter
the answer (tracked files, every non-ignored directory, the git files that hold HEAD,
refs, index, config and ignore rules). A run start re-stats those paths (well under a
millisecond for a few hundred) and asks git again only when one differs, when the cached
answer is older than ``_MAX_AGE_SECONDS``, or when it could not be trusted:

* a fingerprinted path changed within ``_RACY_NS`` of asking git, so a later change in
  the same timestamp tick would leave its ``lstat`` equal (git's "racy clean" problem);
* the repository has submodules, a ``core.worktree`` setting, or more than
  ``_MAX_WATCHED`` paths to check (then git itself is the cheaper check, and the
  repository is remembered as such);
* ``GIT_DIR``-style variables steer discovery.

Building a fingerprint needs the tracked-file list (``git ls-files``); it is kept while
the index file is unchanged, so the usual refresh (a tracked file was edited) costs one
``git status``. Outside any repository (no ``.git`` from the directory up) no process
is started at all.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["GitState", "clear_cache", "git_state", "parse_status"]

logger = logging.getLogger(__name__)

_GIT_TIMEOUT_SECONDS = 2.0
_MAX_AGE_SECONDS = 30.0
_MAX_WATCHED = 5000
_RACY_NS = 2_000_000_000
_HEX = re.compile(r"^[0-9a-f]{7,64}$")
# Variables that change which repository or index git looks at: never cache under them.
_STEERING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
             "GIT_OBJECT_DIRECTORY", "GIT_CEILING_DIRECTORIES", "GIT_NAMESPACE",
             "GIT_DISCOVERY_ACROSS_FILESYSTEM")
_STATUS = ("git", "--no-optional-locks", "status", "--porcelain=v2", "--branch",
           "--untracked-files=normal", "--ignored=matching", "-z")
_TRACKED = ("git", "--no-optional-locks", "ls-files", "-z")

_lock = threading.Lock()
_cache: dict[str, _Entry] = {}
_tracked: dict[str, tuple[tuple[int, ...] | None, tuple[str, ...]]] = {}
_unwatchable: set[str] = set()  # work trees where only asking git gives a safe answer


@dataclass(frozen=True, slots=True)
class GitState:
    """HEAD commit, branch and dirty flag of the work tree holding a directory."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    state: GitState
    env: tuple[tuple[str, str], ...]
    paths: tuple[str, ...]
    keys: tuple[tuple[int, ...] | None, ...]
    expires: float


@dataclass(frozen=True, slots=True)
class _Repo:
    top: str
    git_dir: str
    common_dir: str


def parse_status(text: str) -> tuple[GitState, list[str]]:
    """State and ignored directories (relative) from NUL-separated porcelain v2 output."""
    commit = branch = None
    dirty = False
    ignored: list[str] = []
    tokens = iter(text.split("\0"))
    for token in tokens:
        if token.startswith("# branch.oid "):
            oid = token.removeprefix("# branch.oid ").strip()
            commit = oid if _HEX.match(oid) else None
        elif token.startswith("# branch.head "):
            head = token.removeprefix("# branch.head ").strip()
            branch = None if head == "(detached)" else head
        elif token.startswith("! "):
            if token.endswith("/"):
                ignored.append(token[2:])
        elif token.startswith("2 "):
            dirty = True
            next(tokens, None)  # a rename's original path follows as its own field
        elif token and not token.startswith("#"):
            dirty = True
    return GitState(commit, branch, dirty), ignored


def _key(path: str) -> tuple[int, ...] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode)


def _unchanged(entry: _Entry) -> bool:
    lstat = os.lstat
    for path, key in zip(entry.paths, entry.keys, strict=True):
        try:
            st = lstat(path)
        except OSError:
            if key is not None:
                return False
            continue
        if key != (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode):
            return False
    return True


def _env_key() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, value) for name, value in os.environ.items()
                        if name.startswith("GIT_") or name in ("HOME", "XDG_CONFIG_HOME")))


def _find_repo(where: str) -> _Repo | None:
    """The nearest ``.git`` at or above ``where``, resolved as git discovers it."""
    current = where
    while True:
        dot_git = os.path.join(current, ".git")
        if os.path.isdir(dot_git):
            git_dir = dot_git
            break
        if os.path.isfile(dot_git):
            try:
                with open(dot_git, encoding="utf-8") as handle:
                    line = handle.readline().strip()
            except (OSError, UnicodeDecodeError):
                return None
            if not line.startswith("gitdir:"):
                return None
            git_dir = os.path.normpath(os.path.join(current, line[7:].strip()))
            break
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    common = git_dir
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as handle:
            common = os.path.normpath(os.path.join(git_dir, handle.read().strip()))
    except (OSError, UnicodeDecodeError):
        pass
    return _Repo(current, git_dir, common)


def _meta_paths(repo: _Repo, branch: str | None) -> list[str]:
    """Git's own files whose change can change HEAD, the index or what is ignored."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    common = repo.common_dir
    paths = [os.path.join(repo.top, ".git"), os.path.join(repo.git_dir, "HEAD"),
             os.path.join(repo.git_dir, "index"), os.path.join(repo.git_dir, "config.worktree"),
             os.path.join(common, "packed-refs"), os.path.join(common, "config"),
             os.path.join(common, "info", "exclude"), os.path.join(common, "info", "attributes"),
             os.path.join(common, "info", "sparse-checkout"),
             os.path.join(home, ".gitconfig"), os.path.join(xdg, "git", "config"),
             os.path.join(xdg, "git", "ignore"), os.path.join(xdg, "git", "attributes"),
             "/etc/gitconfig"]
    if branch:
        paths.append(os.path.join(common, "refs", "heads", *branch.split("/")))
    return paths


def _tree_paths(top: str, ignored: set[str]) -> list[str] | None:
    """Every non-ignored directory (where untracked files appear), ``None`` past the cap."""
    paths: list[str] = []
    for current, dirs, files in os.walk(top):
        paths.append(current)
        if len(paths) > _MAX_WATCHED:
            return None
        kept = []
        for name in dirs:
            path = os.path.join(current, name)
            if name == ".git" or path in ignored or os.path.lexists(os.path.join(path, ".git")):
                continue  # git's own dir, an ignored dir, a nested repository
            kept.append(name)
        dirs[:] = kept
        # Untracked ignore/attribute files change what counts as dirty without a dir change.
        paths.extend(os.path.join(current, name) for name in files
                     if name in (".gitignore", ".gitattributes"))
    return paths


def _run(command: tuple[str, ...], cwd: str, deadline: float) -> bytes | None:
    """Stdout of a git command, or ``None`` if it failed or ran past ``deadline``."""
    try:
        proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except (OSError, ValueError) as exc:
        logger.debug("git unavailable in %s: %s", cwd, exc)
        return None
    try:
        out, _ = proc.communicate(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.SubprocessError as exc:
        logger.debug("git state unavailable in %s: %s", cwd, exc)
        return None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out if proc.returncode == 0 else None


def _settled(paths: list[str], asked_ns: int) -> tuple[tuple[int, ...] | None, ...] | None:
    """The paths' keys, or ``None`` if one changed too close to when git looked."""
    keys = tuple(_key(path) for path in paths)
    recent = asked_ns - _RACY_NS
    if any(key is not None and (key[0] > recent or key[1] > recent) for key in keys):
        return None
    return keys


def _fingerprint(repo: _Repo, state: GitState, ignored: list[str], asked_ns: int,
                 deadline: float) -> tuple[list[str], tuple[Any, ...]] | None:
    """Paths and keys that vouch for ``state``; ``None`` when they cannot.

    A repository that can never be fingerprinted (submodules, ``core.worktree``, too
    many paths) is remembered, so later run starts go straight to ``git status``
    instead of walking the tree again.
    """
    if os.path.exists(os.path.join(repo.top, ".gitmodules")):
        return _never(repo)  # submodule changes live in other repositories
    try:
        with open(os.path.join(repo.common_dir, "config"), encoding="utf-8") as handle:
            if "worktree" in handle.read().lower():
                return _never(repo)  # core.worktree points git elsewhere
    except (OSError, UnicodeDecodeError):
        pass
    skip = {os.path.normpath(os.path.join(repo.top, name)) for name in ignored}
    tree = _tree_paths(repo.top, skip)
    if tree is None:
        return _never(repo)
    paths = _meta_paths(repo, state.branch) + tree
    keys = _settled(paths, asked_ns)  # checked before spending a process on the file list
    if keys is None:
        return None
    names = _tracked_files(repo, deadline)
    if names is None:
        return None
    if len(paths) + len(names) > _MAX_WATCHED:
        return _never(repo)
    files = [os.path.join(repo.top, name) for name in names]
    file_keys = _settled(files, asked_ns)
    if file_keys is None:
        return None
    return paths + files, keys + file_keys


def _never(repo: _Repo) -> None:
    with _lock:
        _unwatchable.add(repo.top)


def _tracked_files(repo: _Repo, deadline: float) -> tuple[str, ...] | None:
    """Tracked paths from ``git ls-files``, reused while the index file is unchanged.

    Only the index lists tracked files, so editing a tracked file (the usual reason to
    ask git again) costs one ``git status``, not a second process for this list.
    """
    index = os.path.join(repo.git_dir, "index")
    before = _key(index)
    with _lock:
        known = _tracked.get(repo.top)
    if known is not None and known[0] == before:
        return known[1]
    listed = _run(_TRACKED, repo.top, deadline)
    if listed is None:
        return None
    names = tuple(dict.fromkeys(
        name for name in listed.decode("utf-8", "surrogateescape").split("\0") if name))
    if _key(index) == before:
        with _lock:
            _tracked[repo.top] = (before, names)
    return names


def git_state(directory: str | None = None) -> GitState:
    """Git facts for ``directory`` (default: cwd) within 2 s; empty when unknown."""
    where = os.path.abspath(directory or os.getcwd())
    deadline = time.monotonic() + _GIT_TIMEOUT_SECONDS
    if any(os.environ.get(name) for name in _STEERING):
        out = _run(_STATUS, where, deadline)
        return GitState() if out is None else parse_status(out.decode("utf-8", "replace"))[0]
    repo = _find_repo(where)
    if repo is None:
        return GitState()  # git would find no repository either
    env = _env_key()
    with _lock:
        entry = _cache.get(repo.top)
    if (entry is not None and entry.env == env and time.monotonic() < entry.expires
            and _unchanged(entry)):
        return entry.state
    asked_ns = time.time_ns()
    started = time.monotonic()
    out = _run(_STATUS, repo.top, deadline)
    if out is None:
        with _lock:
            _cache.pop(repo.top, None)
        return GitState()
    state, ignored = parse_status(out.decode("utf-8", "surrogateescape"))
    with _lock:
        unwatchable = repo.top in _unwatchable
    found = None if unwatchable else _fingerprint(repo, state, ignored, asked_ns, deadline)
    with _lock:
        if found is None:  # ask again next time
            _cache.pop(repo.top, None)
        else:
            _cache[repo.top] = _Entry(state, env, tuple(found[0]), found[1],
                                      started + _MAX_AGE_SECONDS)
    return state


def clear_cache() -> None:
    """Forget every cached answer (tests, or after changing git config by hand)."""
    with _lock:
        _cache.clear()
        _tracked.clear()
        _unwatchable.clear()


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
