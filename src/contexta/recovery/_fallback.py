"""Where the outbox goes when the workspace cannot be written, and when to trust it.

Two places, tried in order, both private (0700) to the user and named by a digest of
the outbox root, so capture and a later replay with the same config agree on them:

1. ``$XDG_STATE_HOME/contexta-outbox/<digest>`` (default ``~/.local/state``): it
   survives reboots and does not depend on ``TMPDIR``, which cron jobs, systemd
   ``PrivateTmp`` and containers change between the job and the person replaying;
2. ``<tempdir>/contexta-outbox-<uid>/<digest>``: often a different file system
   (tmpfs), so it still takes captures when the disk holding home and the workspace
   is full.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["fallback_outbox_roots", "is_private", "make_private_dir"]


def _state_home() -> Path | None:
    """The user's state directory (XDG), or ``None`` when there is no usable home."""
    configured = os.environ.get("XDG_STATE_HOME", "")
    if configured and os.path.isabs(configured):
        return Path(configured)
    try:
        home = Path.home()
    except (KeyError, RuntimeError):  # no HOME and no passwd entry
        return None
    return home / ".local" / "state" if home.is_dir() else None


def fallback_outbox_roots(root: str | os.PathLike[str]) -> tuple[Path, ...]:
    """The fallback outboxes of the outbox at ``root``, in the order spooling tries them.

    One parent per user in the temp dir, because a shared ``/tmp`` parent made 0700
    by one user would shut every other user out.
    """
    digest = hashlib.sha256(os.fsencode(Path(root).resolve())).hexdigest()[:16]
    owner = os.getuid() if hasattr(os, "getuid") else "user"
    roots = []
    state = _state_home()
    if state is not None:
        roots.append(state / "contexta-outbox" / digest)
    roots.append(Path(tempfile.gettempdir()) / f"contexta-outbox-{owner}" / digest)
    return tuple(roots)


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its parent with mode 0700; refuse ones owned by someone else.

    In the temp dir the parent has a predictable name in a world-writable directory,
    so a directory (or symlink) planted there by another user must not get captures.
    """
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    for directory in (path.parent, path):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode) or (
                hasattr(os, "getuid") and info.st_uid != os.getuid()):
            message = f"{directory} is not a directory owned by this user"
            raise OSError(errno.EACCES, message, str(directory))


def is_private(path: Path) -> bool:
    """``path`` and its parent are real directories of this user, writable by no one else.

    Replay must not trust a fallback outbox planted in the shared temp dir: its entries
    would become runs in the workspace, and its body paths would be read and deleted.
    """
    for directory in (path.parent, path):
        try:
            info = os.lstat(directory)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return False
    return True
