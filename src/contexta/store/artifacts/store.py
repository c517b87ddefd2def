"""``ArtifactStore``: content-addressed file bodies bound to artifact refs.

A body is copied (and hashed in the same pass) into a temporary file inside
the vault, then renamed to ``objects/sha256/<ab>/<digest>``; the binding row is
committed afterwards, so a body without binding can exist after a crash (an
orphan, reported by ``inspect_store``) but never a binding without its body.
Stored names come from digests, never from user-supplied paths.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

from sqlalchemy import bindparam, insert, select

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
from contexta.store.artifacts.ingest import BodyIngest, StagedBody
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
from contexta.store.artifacts.verify import check_claims, summarize, verify_body
from contexta.store.metadata.repository import coerce_ref, hot_reads_ready
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
        self._ingest = BodyIngest(self._root, chunk_size=config.chunk_size_bytes, fsync=self._fsync)

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
        self._check_writable()
        ingest = self._check_put(manifest, mode)
        staged = self._ingest.stage(source)
        return self._bind(manifest, staged, ingest, source_name)

    def stage_body(self, source: str | os.PathLike[str]) -> StagedBody:
        """Copy and hash ``source`` into the vault without binding it yet.

        For callers that need the digest to build the manifest: they read the file
        once, then call :meth:`bind_staged` (or :meth:`discard_staged`).
        """
        self._check_writable()
        return self._ingest.stage(source)

    def bind_staged(
        self,
        manifest: ArtifactManifest,
        staged: StagedBody,
        *,
        mode: IngestMode | str | None = None,
        source_name: str | None = None,
    ) -> ArtifactPutReceipt:
        """Bind a staged body to ``manifest.artifact_ref``; the staged copy is consumed."""
        try:
            self._check_writable()
            ingest = self._check_put(manifest, mode)
        except BaseException:
            self._ingest.discard(staged)
            raise
        return self._bind(manifest, staged, ingest, source_name)

    def discard_staged(self, staged: StagedBody) -> None:
        """Drop a staged body that will not be bound."""
        self._ingest.discard(staged)

    def _check_writable(self) -> None:
        if self.config.read_only or self._db.read_only:
            msg = "put_artifact is not allowed: the artifact store is open read-only"
            raise ReadOnlyStoreError(msg, code="store_read_only")

    def _check_put(self, manifest: ArtifactManifest, mode: IngestMode | str | None) -> IngestMode:
        if not isinstance(manifest, ArtifactManifest):
            msg = f"manifest: expected an ArtifactManifest, got {truncate_value(manifest)}"
            raise ValidationError(
                msg, code="artifact_invalid_manifest", details={"field": "manifest"}
            )
        ingest = self._mode(mode)
        if not self.detached:
            self._require_run(str(manifest.run_ref))
        return ingest

    def _bind(
        self,
        manifest: ArtifactManifest,
        staged: StagedBody,
        ingest: IngestMode,
        source_name: str | None,
    ) -> ArtifactPutReceipt:
        ref = str(manifest.artifact_ref)
        digest, size = staged.digest, staged.size
        try:
            check_claims(self.config.verification_mode, manifest, digest, size)
            existing = self._binding_row(ref)
            if existing is not None:
                binding = _binding_from_json(existing)
                if binding.hash_value == digest:
                    self._ingest.discard(staged)
                    return ArtifactPutReceipt(binding, self._body_path(digest), 0)
                msg = (
                    f"artifact {ref} is already bound to a body with sha256 {binding.hash_value}; "
                    f"the new body has {digest} (use a new artifact_ref)"
                )
                raise ArtifactConflictError(
                    msg,
                    details={"artifact_ref": ref, "stored": binding.hash_value, "proposed": digest},
                )
            body_path = self._ingest.place(staged)
        except BaseException:
            self._ingest.discard(staged)
            raise
        binding = ArtifactBinding(
            artifact_ref=ref,
            artifact_kind=manifest.artifact_kind,
            binding_id=secrets.token_hex(8),
            source_name=source_name or os.path.basename(staged.source),
            ingest_mode=ingest.value,
            size_bytes=size,
            hash_algorithm="sha256",
            hash_value=digest,
            layout_version=self.config.layout_version,
            created_at=now_timestamp(),
            manifest_snapshot=to_payload(manifest),
        )
        values = {
            "ref": ref,
            "run_ref": str(manifest.run_ref),
            "kind": manifest.artifact_kind,
            "created_us": timestamp_to_micros(manifest.created_at),
            "hash_value": digest,
            "size_bytes": size,
            "binding": json.dumps(binding.to_dict(), sort_keys=True),
            "manifest": to_json(manifest),
        }
        stmt = self._db.hot_statement("artifacts.insert", _insert_query)
        with self._db.raw_write(f"binding artifact {ref}") as cur:
            cur.execute(stmt.sql, stmt.params(values))
        if ingest is IngestMode.MOVE:
            Path(staged.source).unlink(missing_ok=True)
        return ArtifactPutReceipt(binding, body_path, size)

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
        stmt = self._db.hot_statement("runs.exists", _run_exists_query)
        if not self._db.hot_query(stmt, (run_ref,)):
            msg = f"manifest run_ref {run_ref!r} does not exist; put the run before its artifacts"
            raise ArtifactNotFoundError(
                msg, code="artifact_run_not_found", details={"field": "run_ref", "value": run_ref}
            )

    def _body_path(self, digest: str) -> Path:
        return self._ingest.body_path(digest)

    # -- reads -------------------------------------------------------------------
    def _binding_row(self, ref: str) -> str | None:
        # Point lookups run on the raw per-thread connection (see Database.hot_query):
        # put_artifact makes two per artifact, each ~1 ms through SQLAlchemy.
        if hot_reads_ready(self._db):
            stmt = self._db.hot_statement("artifacts.binding", _binding_query)
            rows = self._db.hot_query(stmt, (ref,))
            value = rows[0][0] if rows else None
        else:
            with self._db.read() as conn:
                value = conn.execute(_binding_query(), {"ref": ref}).scalar()
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
        return verify_body(self.get_artifact(ref), manifest, self.config.chunk_size_bytes)

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
        return summarize(sweep, rows, self._root / "objects" / "sha256")


def _run_exists_query() -> Any:
    return select(schema.runs.c.ref).where(schema.runs.c.ref == bindparam("ref"))


def _binding_query() -> Any:
    t = schema.artifacts
    return select(t.c.binding).where(t.c.ref == bindparam("ref"))


def _insert_query() -> Any:
    t = schema.artifacts
    return insert(t).values({c.name: bindparam(c.name) for c in t.columns})


def _binding_from_json(text: str) -> ArtifactBinding:
    data = json.loads(text)
    return ArtifactBinding(**data)
