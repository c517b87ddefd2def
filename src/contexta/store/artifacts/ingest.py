"""Copying a body into the vault: one read that both hashes and copies (contract.md §4.5).

``stage`` copies the source into ``tmp/`` inside the vault, hashing in the same pass,
and refuses a source that changed meanwhile; ``place`` renames the copy to its
content address ``objects/sha256/<ab>/<digest>``. Binding happens in between, in
``ArtifactStore``, so a caller that needs the digest to build its manifest (capture)
reads the file once instead of hashing it first and copying it after.

Directories are created on demand: the rename is tried first and the directory made
only when it is missing, instead of a ``mkdir`` before every ingest. ``fsync`` runs
only in ``fsync`` durability.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contexta.errors import ArtifactError
from contexta.store.sql.errors import classify_os_error

__all__ = ["BodyIngest", "StagedBody"]


@dataclass(frozen=True, slots=True)
class StagedBody:
    """A body copied into the vault and hashed, not yet at its content address."""

    source: str
    tmp: str
    digest: str
    size: int


def source_error(source: str, *, missing: bool) -> ArtifactError:
    """The error for a source path that is missing or a directory."""
    if missing:
        msg = f"source: {source!r} does not exist"
        return ArtifactError(
            msg, code="capture_artifact_missing", details={"field": "source", "value": source}
        )
    msg = f"source: {source!r} is a directory; artifacts are single files"
    return ArtifactError(
        msg, code="capture_artifact_not_a_file", details={"field": "source", "value": source}
    )


class BodyIngest:
    """Copy-and-hash into ``<root>/tmp``, then rename into ``<root>/objects``."""

    def __init__(self, root: Path, *, chunk_size: int, fsync: bool) -> None:
        self._root = root
        self._tmp_dir = os.path.join(root, "tmp")
        self._chunk = chunk_size
        self._fsync = fsync

    def body_path(self, digest: str) -> Path:
        return self._root / "objects" / "sha256" / digest[:2] / digest

    def stage(self, source: str | os.PathLike[str]) -> StagedBody:
        """Copy ``source`` into the vault's tmp dir, hashing it in the same read."""
        path = os.fspath(source)
        try:
            before = os.stat(path)
        except FileNotFoundError:
            raise source_error(path, missing=True) from None
        except OSError as error:
            raise classify_os_error(error, "ingesting an artifact", path) from error
        if stat.S_ISDIR(before.st_mode):
            raise source_error(path, missing=False)
        try:
            digest, size, tmp = self._copy(path)
            after = os.stat(path)
        except OSError as error:
            raise classify_os_error(error, "ingesting an artifact", path) from error
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or (
            size != after.st_size
        ):
            _unlink(tmp)
            msg = f"source {path!r} changed while it was being ingested; retry when complete"
            raise ArtifactError(
                msg, code="artifact_source_changed", details={"field": "source", "value": path}
            )
        return StagedBody(path, tmp, digest, size)

    def _copy(self, path: str) -> tuple[str, int, str]:
        try:
            handle, tmp = tempfile.mkstemp(prefix="ingest-", dir=self._tmp_dir)
        except FileNotFoundError:
            os.makedirs(self._tmp_dir, exist_ok=True)
            handle, tmp = tempfile.mkstemp(prefix="ingest-", dir=self._tmp_dir)
        hasher = hashlib.sha256()
        size = 0
        chunk = self._chunk
        try:
            with open(path, "rb") as src, os.fdopen(handle, "wb") as dst:
                while block := src.read(chunk):
                    hasher.update(block)
                    dst.write(block)
                    size += len(block)
                dst.flush()
                if self._fsync:
                    os.fsync(dst.fileno())
        except BaseException:
            _unlink(tmp)
            raise
        return hasher.hexdigest(), size, tmp

    def place(self, staged: StagedBody) -> Path:
        """Rename the staged copy to its content address (creating the fan-out dir once)."""
        target = self.body_path(staged.digest)
        try:
            try:
                os.replace(staged.tmp, target)
            except FileNotFoundError:
                if not os.path.exists(staged.tmp):
                    raise
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged.tmp, target)
        except OSError as error:
            raise classify_os_error(error, "storing an artifact body", target) from error
        return target

    def discard(self, staged: StagedBody) -> None:
        _unlink(staged.tmp)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
