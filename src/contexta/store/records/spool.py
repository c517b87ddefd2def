"""The per-process append-only spool that makes appends durable and fast.

An acknowledged record is one ``write()`` into this process's spool file: the
kernel keeps it if the process is killed (``fsync`` durability also forces it
to disk). A background step indexes spooled records into the database in
batches; a process that opens the workspace indexes spools whose owners died.
Each record line carries its store-wide sequence number, taken from a counter
file under an exclusive ``flock`` held while the line is written, so sequence
order is the order in which records became durable, across processes.

Format (one entry per line, UTF-8)::

    S <sequence> <canonical record JSON>\n
    B <n>\n            followed by exactly n S lines: one atomic append_many

An incomplete final entry (torn write) is never indexed; once its owner is gone
its bytes are copied to ``quarantine/`` and reported by ``check_integrity``.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from contexta.store.sql.errors import classify_os_error

__all__ = ["ParsedSpool", "SequenceCounter", "SpoolWriter", "iter_orphan_spools", "parse_spool"]

SPOOL_SUFFIX = ".spool"


class SequenceCounter:
    """A cross-process counter in an 8-byte file, guarded by ``flock``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    def lock(self) -> int:
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def unlock(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def read(self) -> int:
        raw = os.pread(self._open(), 8, 0)
        return int.from_bytes(raw, "little") if len(raw) == 8 else 0

    def write(self, value: int, *, fsync: bool = False) -> None:
        fd = self._open()
        os.pwrite(fd, value.to_bytes(8, "little"), 0)
        if fsync:
            os.fsync(fd)

    def raise_floor(self, floor: int) -> None:
        """Make sure the next sequence is above ``floor`` (e.g. the database max)."""
        self.lock()
        try:
            if self.read() < floor:
                self.write(floor)
        finally:
            self.unlock()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def forget_after_fork(self) -> None:
        self._fd = None


class SpoolWriter:
    """This process's spool file; the owner holds an exclusive ``flock`` on it."""

    def __init__(self, directory: Path, *, fsync: bool) -> None:
        self.directory = directory
        self.fsync = fsync
        directory.mkdir(parents=True, exist_ok=True)
        host = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in socket.gethostname())[
            :40
        ]
        self.name = f"{host}-{os.getpid()}-{secrets.token_hex(4)}{SPOOL_SUFFIX}"
        self.path = directory / self.name
        # Created and locked under a name recovery ignores, then renamed: a
        # spool is never visible unlocked, so no other process can take a live
        # writer's fresh spool for a dead one and unlink it.
        staging = directory / f"{self.name}.new"
        try:
            self.fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o644)
        except OSError as error:
            raise classify_os_error(error, "creating the record spool", staging) from error
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.rename(staging, self.path)
        except OSError as error:
            os.close(self.fd)
            staging.unlink(missing_ok=True)
            raise classify_os_error(error, "creating the record spool", self.path) from error
        self.size = 0

    def write(self, data: bytes) -> int:
        """Append ``data`` whole or not at all; return the new end offset."""
        start = self.size
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(self.fd)
        except OSError as error:
            # Cut a partial entry so the next append does not glue onto it.
            try:
                os.ftruncate(self.fd, start)
            except OSError:
                pass
            raise classify_os_error(error, "appending to the record spool", self.path) from error
        self.size = start + len(data)
        return self.size

    def close(self, *, remove: bool) -> None:
        try:
            if remove:
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)


@dataclass(slots=True)
class ParsedSpool:
    """Entries ``(end_offset, sequence, body)`` and where complete data ends."""

    entries: list[tuple[int, int, str]] = field(default_factory=list)
    complete_upto: int = 0
    bad: list[tuple[int, bytes]] = field(default_factory=list)


def _parse_line(line: bytes) -> tuple[int, str] | None:
    if not line.startswith(b"S "):
        return None
    head, sep, body = line[2:].partition(b" ")
    if not sep or not head.isdigit():
        return None
    try:
        return int(head), body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def parse_spool(data: bytes, base_offset: int) -> ParsedSpool:
    """Parse spool bytes that start at ``base_offset`` in the file.

    Unparseable complete lines are returned in ``bad`` (with their offset) and
    skipped; an incomplete trailing entry is left for later (``complete_upto``).
    """
    out = ParsedSpool(complete_upto=base_offset)
    pos = 0
    end = len(data)
    while pos < end:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        line = data[pos:nl]
        if line.startswith(b"B "):
            count_text = line[2:]
            if not count_text.isdigit():
                out.bad.append((base_offset + pos, line))
                pos = nl + 1
                out.complete_upto = base_offset + pos
                continue
            count = int(count_text)
            lines: list[tuple[int, str] | None] = []
            cursor = nl + 1
            for _ in range(count):
                nxt = data.find(b"\n", cursor)
                if nxt < 0:
                    break
                lines.append(_parse_line(data[cursor:nxt]))
                cursor = nxt + 1
            if len(lines) < count:
                break  # batch not complete yet (or torn): nothing of it counts
            batch_end = base_offset + cursor
            if any(item is None for item in lines):
                out.bad.append((base_offset + pos, data[pos:cursor]))
            else:
                out.entries.extend((batch_end, seq, body) for seq, body in lines)  # type: ignore[misc]
            pos = cursor
            out.complete_upto = batch_end
            continue
        parsed = _parse_line(line)
        if parsed is None:
            out.bad.append((base_offset + pos, line))
        else:
            out.entries.append((base_offset + nl + 1, parsed[0], parsed[1]))
        pos = nl + 1
        out.complete_upto = base_offset + pos
    return out


def iter_orphan_spools(directory: Path, own_name: str | None) -> Iterator[tuple[Path, int]]:
    """Yield ``(path, locked_fd)`` for spools whose owner process is gone.

    The caller must index the spool and then close the fd (releasing the lock).
    Any other ``OSError`` (say the workspace root is a file, or unreadable) is raised
    as ``StoreAccessError``.
    """
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    except OSError as error:
        raise classify_os_error(error, "listing record spools", directory) from error
    for name in names:
        if not name.endswith(SPOOL_SUFFIX) or name == own_name:
            continue
        path = directory / name
        try:
            fd = _lock_if_orphan(path)
        except OSError as error:
            raise classify_os_error(error, "opening a record spool", path) from error
        if fd is not None:
            yield path, fd


def _lock_if_orphan(path: Path) -> int | None:
    """An fd holding ``path``'s exclusive lock, or ``None`` if its owner lives or it is gone."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_nlink == 0:  # another process finished it meanwhile
            os.close(fd)
            return None
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:
        os.close(fd)
        raise
    return fd
