"""``ArtifactStore``: content-addressed file bodies bound to artifact refs.

A body is copied (and hashed in the same pass) into a temporary file inside
the vault, then renamed to ``objects/sha256/<ab>/<digest>``; the binding row is
committed afterwards, so a body without binding can exist after a crash (an
orphan, reported by ``inspect_store``) but never a binding without its body.
Stored names come from digests, never from user-supplied paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

from sqlalchemy import insert, select

from contexta.contract import ArtifactManifest, deserialize_artifact_manifest, to_json, to_payload
from contexta.contract.timestamps import now_timestamp, timestamp_to_micros
from contexta.errors import (
    ArtifactError,
    ConflictError,
    NotFoundError,
    ReadOnlyStoreError,
    ValidationError,
    truncate_value,
)
from contexta.store.artifacts.models import (
    ArtifactBinding,
    ArtifactHandle,
    ArtifactPutReceipt,
    IngestMode,
    StoreSummary,
    SweepReport,
    VerificationReport,
    VerificationStatus,
)
from contexta.store.metadata.repository import coerce_ref
from contexta.store.sql import schema
from contexta.store.sql.errors import classify_os_error

if TYPE_CHECKING:
    from contexta.config import ArtifactStoreConfig
    from contexta.store.metadata.store import MetadataStore
    from contexta.store.sql.engine import Database

__all__ = ["ArtifactStore"]


class ArtifactNotFoundError(NotFoundError, ArtifactError):
    default_code = "artifact_not_found"


class ArtifactConflictError(ConflictError, ArtifactError):
    default_code = "artifact_binding_conflict"


class ArtifactStore:
    """File bodies plus manifests; bound stores check that the manifest's run exists."""

    def __init__(
        self,
        config: ArtifactStoreConfig | None = None,
        *,
        metadata_store: MetadataStore | None = None,
    ) -> None:
        if config is None:
            from contexta.config import UnifiedConfig

            config = UnifiedConfig().artifacts
        self.config = config
        self._root = (
            Path(config.root_path) if config.root_path else Path(".contexta/artifacts").resolve()
        )
        self._metadata = metadata_store
        self.detached = metadata_store is None
        self._fsync = False
        if metadata_store is not None:
            self._db: Database = metadata_store._db
            self._fsync = getattr(metadata_store._db.backend, "durability", "flush") == "fsync"
        else:
            from contexta.store.sql._sqlite import SqliteBackend
            from contexta.store.sql.engine import Database

            backend = SqliteBackend(
                self._root / "bindings.sqlite3", read_only=config.read_only, durability="flush"
            )
            self._db = Database(backend, label="artifact store database")

    @property
    def root_path(self) -> Path:
        return self._root

    def close(self) -> None:
        if self.detached:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writes ----------------------------------------------------------------
    def put_artifact(
        self,
        manifest: ArtifactManifest,
        source: str | os.PathLike[str],
        *,
        mode: IngestMode | str | None = None,
        source_name: str | None = None,
    ) -> ArtifactPutReceipt:
        """Ingest the file at ``source`` and bind it to ``manifest.artifact_ref``."""
        if self.config.read_only or self._db.read_only:
            msg = "put_artifact is not allowed: the artifact store is open read-only"
            raise ReadOnlyStoreError(msg, code="store_read_only")
        if not isinstance(manifest, ArtifactManifest):
            msg = f"manifest: expected an ArtifactManifest, got {truncate_value(manifest)}"
            raise ValidationError(
                msg, code="artifact_invalid_manifest", details={"field": "manifest"}
            )
        ingest = self._mode(mode)
        path = Path(os.fspath(source))
        ref = str(manifest.artifact_ref)
        if not self.detached:
            self._require_run(str(manifest.run_ref))
        if not path.exists():
            msg = f"source: {str(path)!r} does not exist"
            raise ArtifactError(
                msg,
                code="capture_artifact_missing",
                details={"field": "source", "value": str(path)},
            )
        if path.is_dir():
            msg = f"source: {str(path)!r} is a directory; artifacts are single files"
            raise ArtifactError(
                msg,
                code="capture_artifact_not_a_file",
                details={"field": "source", "value": str(path)},
            )
        digest, size, tmp = self._copy_in(path)
        try:
            self._check_claims(manifest, digest, size)
            existing = self._binding_row(ref)
            if existing is not None:
                binding = _binding_from_json(existing)
                if binding.hash_value == digest:
                    tmp.unlink(missing_ok=True)
                    return ArtifactPutReceipt(binding, self._body_path(digest), 0)
                msg = (
                    f"artifact {ref} is already bound to a body with sha256 {binding.hash_value}; "
                    f"the new body has {digest} (use a new artifact_ref)"
                )
                raise ArtifactConflictError(
                    msg,
                    details={"artifact_ref": ref, "stored": binding.hash_value, "proposed": digest},
                )
            body_path = self._body_path(digest)
            body_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, body_path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        binding = ArtifactBinding(
            artifact_ref=ref,
            artifact_kind=manifest.artifact_kind,
            binding_id=secrets.token_hex(8),
            source_name=source_name or path.name,
            ingest_mode=ingest.value,
            size_bytes=size,
            hash_algorithm="sha256",
            hash_value=digest,
            layout_version=self.config.layout_version,
            created_at=now_timestamp(),
            manifest_snapshot=to_payload(manifest),
        )
        with self._db.write(f"binding artifact {ref}") as conn:
            conn.execute(
                insert(schema.artifacts).values(
                    ref=ref,
                    run_ref=str(manifest.run_ref),
                    kind=manifest.artifact_kind,
                    created_us=timestamp_to_micros(manifest.created_at),
                    hash_value=digest,
                    size_bytes=size,
                    binding=json.dumps(binding.to_dict(), sort_keys=True),
                    manifest=to_json(manifest),
                )
            )
        if ingest is IngestMode.MOVE:
            path.unlink(missing_ok=True)
        return ArtifactPutReceipt(binding, self._body_path(digest), size)

    def _mode(self, mode: IngestMode | str | None) -> IngestMode:
        value = mode if mode is not None else self.config.default_ingest_mode
        try:
            return IngestMode(value)
        except ValueError as error:
            msg = f"mode: {value!r} is not an ingest mode; use copy, move or adopt"
            raise ValidationError(
                msg,
                code="artifact_invalid_mode",
                details={"field": "mode", "value": str(value)},
                cause=error,
            ) from error

    def _require_run(self, run_ref: str) -> None:
        with self._db.read() as conn:
            found = conn.execute(
                select(schema.runs.c.ref).where(schema.runs.c.ref == run_ref)
            ).first()
        if found is None:
            msg = f"manifest run_ref {run_ref!r} does not exist; put the run before its artifacts"
            raise ArtifactNotFoundError(
                msg, code="artifact_run_not_found", details={"field": "run_ref", "value": run_ref}
            )

    def _copy_in(self, source: Path) -> tuple[str, int, Path]:
        tmp_dir = self._root / "tmp"
        chunk = self.config.chunk_size_bytes
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            before = source.stat()
            hasher = hashlib.sha256()
            size = 0
            fd, tmp_name = tempfile.mkstemp(prefix="ingest-", dir=tmp_dir)
            tmp = Path(tmp_name)
            try:
                with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
                    while block := src.read(chunk):
                        hasher.update(block)
                        dst.write(block)
                        size += len(block)
                    dst.flush()
                    if self._fsync:
                        os.fsync(dst.fileno())
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            after = source.stat()
        except OSError as error:
            raise classify_os_error(error, "ingesting an artifact", source) from error
        if (before.st_size, before.st_mtime_ns) != (
            after.st_size,
            after.st_mtime_ns,
        ) or size != after.st_size:
            tmp.unlink(missing_ok=True)
            msg = f"source {str(source)!r} changed while it was being ingested; retry when complete"
            raise ArtifactError(
                msg,
                code="artifact_source_changed",
                details={"field": "source", "value": str(source)},
            )
        return hasher.hexdigest(), size, tmp

    def _check_claims(self, manifest: ArtifactManifest, digest: str, size: int) -> None:
        mode = self.config.verification_mode
        if mode in ("none", "stored"):
            return
        claimed_hash = manifest.hash_value.removeprefix("sha256:") if manifest.hash_value else None
        if mode == "strict" and (claimed_hash is None or manifest.size_bytes is None):
            msg = "manifest must state size_bytes and hash_value (verification_mode 'strict')"
            raise ArtifactError(msg, code="artifact_claim_mismatch", details={"field": "manifest"})
        if manifest.size_bytes is not None and manifest.size_bytes != size:
            msg = (
                f"manifest size_bytes {manifest.size_bytes} does not match the body ({size} bytes)"
            )
            raise ArtifactError(
                msg,
                code="artifact_claim_mismatch",
                details={"field": "size_bytes", "value": manifest.size_bytes},
            )
        if claimed_hash is not None and claimed_hash != digest:
            msg = f"manifest hash_value {claimed_hash} does not match the body (sha256 {digest})"
            raise ArtifactError(
                msg,
                code="artifact_claim_mismatch",
                details={"field": "hash_value", "value": claimed_hash},
            )

    def _body_path(self, digest: str) -> Path:
        return self._root / "objects" / "sha256" / digest[:2] / digest

    # -- reads -------------------------------------------------------------------
    def _binding_row(self, ref: str) -> str | None:
        with self._db.read() as conn:
            value = conn.execute(
                select(schema.artifacts.c.binding).where(schema.artifacts.c.ref == ref)
            ).scalar()
        return None if value is None else str(value)

    def get_artifact(self, ref: object) -> ArtifactHandle:
        text = coerce_ref(ref, "artifact", "artifact_ref")
        row = self._binding_row(text)
        if row is None:
            msg = f"artifact {text!r} does not exist"
            raise ArtifactNotFoundError(msg, details={"artifact_ref": text})
        binding = _binding_from_json(row)
        return ArtifactHandle(binding, self._body_path(binding.hash_value))

    def artifact_exists(self, ref: object) -> bool:
        return self._binding_row(coerce_ref(ref, "artifact", "artifact_ref")) is not None

    def list_refs(self) -> list[str]:
        with self._db.read() as conn:
            return sorted(conn.execute(select(schema.artifacts.c.ref)).scalars())

    def list_manifests(self, run_ref: object = None) -> tuple[ArtifactManifest, ...]:
        """Manifests (with the stored hash and size filled in), by created_at, ref."""
        t = schema.artifacts
        stmt = select(t.c.manifest, t.c.hash_value, t.c.size_bytes).order_by(
            t.c.created_us, t.c.ref
        )
        if run_ref is not None:
            stmt = stmt.where(t.c.run_ref == coerce_ref(run_ref, "run", "run_ref"))
        return self._manifests(stmt)

    def _manifests(self, stmt: Any) -> tuple[ArtifactManifest, ...]:
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        out = []
        for manifest_json, digest, size in rows:
            data = json.loads(manifest_json)
            data["hash_value"] = data.get("hash_value") or digest
            data["size_bytes"] = (
                data.get("size_bytes") if data.get("size_bytes") is not None else size
            )
            out.append(deserialize_artifact_manifest(data))
        return tuple(out)

    def list_manifests_for_runs(self, run_refs: list[str]) -> tuple[ArtifactManifest, ...]:
        """Manifests of many runs in one query, grouped by run, by created_at, ref."""
        if not run_refs:
            return ()
        t = schema.artifacts
        refs = [coerce_ref(ref, "run", "run_refs") for ref in run_refs]
        stmt = (
            select(t.c.manifest, t.c.hash_value, t.c.size_bytes)
            .where(t.c.run_ref.in_(refs))
            .order_by(t.c.run_ref, t.c.created_us, t.c.ref)
        )
        return self._manifests(stmt)

    def open_artifact(self, ref: object, *, mode: str = "rb") -> IO[Any]:
        if mode not in ("rb", "r"):
            msg = f"mode: {mode!r} is not allowed; artifacts open read-only ('rb' or 'r')"
            raise ValidationError(
                msg, code="artifact_invalid_mode", details={"field": "mode", "value": mode}
            )
        handle = self.get_artifact(ref)
        try:
            return open(handle.path, mode)
        except OSError as error:
            raise classify_os_error(error, "opening an artifact", handle.path) from error

    def read_artifact_bytes(self, ref: object) -> bytes:
        with self.open_artifact(ref) as handle:
            data: bytes = handle.read()
            return data

    def iter_artifact_chunks(
        self, ref: object, *, chunk_size: int | None = None
    ) -> Iterator[bytes]:
        size = chunk_size or self.config.chunk_size_bytes
        with self.open_artifact(ref) as handle:
            while block := handle.read(size):
                yield block

    def verify_artifact(
        self, ref: object, *, manifest: ArtifactManifest | None = None
    ) -> VerificationReport:
        handle = self.get_artifact(ref)
        binding = handle.binding
        expected_size = (
            binding.size_bytes
            if manifest is None or manifest.size_bytes is None
            else manifest.size_bytes
        )
        expected_hash = binding.hash_value
        if manifest is not None and manifest.hash_value:
            expected_hash = manifest.hash_value.removeprefix("sha256:")
        checked = now_timestamp()
        if not handle.path.exists():
            return VerificationReport(
                binding.artifact_ref,
                VerificationStatus.MISSING,
                False,
                False,
                None,
                expected_size,
                None,
                expected_hash,
                checked,
                ("body file is missing",),
            )
        hasher = hashlib.sha256()
        size = 0
        with open(handle.path, "rb") as body:
            while block := body.read(self.config.chunk_size_bytes):
                hasher.update(block)
                size += len(block)
        digest = hasher.hexdigest()
        if size != expected_size:
            status = VerificationStatus.SIZE_MISMATCH
        elif digest != expected_hash:
            status = VerificationStatus.HASH_MISMATCH
        else:
            status = VerificationStatus.VERIFIED
        ok = status is VerificationStatus.VERIFIED
        return VerificationReport(
            binding.artifact_ref,
            status,
            ok,
            True,
            size,
            expected_size,
            digest,
            expected_hash,
            checked,
            () if ok else (f"body {status.value}",),
        )

    def verify_all(self) -> SweepReport:
        reports = tuple(self.verify_artifact(ref) for ref in self.list_refs())
        missing = sum(1 for r in reports if r.status is VerificationStatus.MISSING)
        drifted = sum(
            1
            for r in reports
            if r.status in (VerificationStatus.SIZE_MISMATCH, VerificationStatus.HASH_MISMATCH)
        )
        return SweepReport(reports, sum(1 for r in reports if r.verified), missing, drifted)

    def inspect_store(self) -> StoreSummary:
        sweep = self.verify_all()
        with self._db.read() as conn:
            rows = conn.execute(
                select(
                    schema.artifacts.c.kind,
                    schema.artifacts.c.size_bytes,
                    schema.artifacts.c.hash_value,
                )
            ).all()
        kinds: dict[str, int] = {}
        for kind, _, _ in rows:
            kinds[kind] = kinds.get(kind, 0) + 1
        bound = {digest for _, _, digest in rows}
        objects = self._root / "objects" / "sha256"
        orphans = 0
        if objects.exists():
            orphans = sum(1 for p in objects.glob("*/*") if p.name not in bound)
        return StoreSummary(
            len(rows),
            sum(size for _, size, _ in rows),
            kinds,
            sweep.verified_count,
            sweep.missing_count,
            sweep.drifted_count,
            orphans,
        )


def _binding_from_json(text: str) -> ArtifactBinding:
    data = json.loads(text)
    return ArtifactBinding(**data)
