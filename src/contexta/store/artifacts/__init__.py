"""Artifact plane: content-addressed file bodies and their bindings (contract.md §4.5)."""

from __future__ import annotations

from typing import Any

from contexta.config import ArtifactStoreConfig
from contexta.store.artifacts.models import (
    ArtifactBinding,
    ArtifactHandle,
    ArtifactPutReceipt,
    IngestMode,
    StoreSummary,
    SweepReport,
    VerificationMode,
    VerificationReport,
    VerificationStatus,
)
from contexta.store.artifacts.store import ArtifactStore

VaultConfig = ArtifactStoreConfig


def get_artifact(store: ArtifactStore, ref: object) -> ArtifactHandle:
    return store.get_artifact(ref)


def artifact_exists(store: ArtifactStore, ref: object) -> bool:
    return store.artifact_exists(ref)


def open_artifact(store: ArtifactStore, ref: object, *, mode: str = "rb") -> Any:
    return store.open_artifact(ref, mode=mode)


def read_artifact_bytes(store: ArtifactStore, ref: object) -> bytes:
    return store.read_artifact_bytes(ref)


def iter_artifact_chunks(
    store: ArtifactStore, ref: object, *, chunk_size: int | None = None
) -> Any:
    return store.iter_artifact_chunks(ref, chunk_size=chunk_size)


def list_refs(store: ArtifactStore) -> list[str]:
    return store.list_refs()


def verify_artifact(
    store: ArtifactStore, ref: object, *, manifest: Any = None
) -> VerificationReport:
    return store.verify_artifact(ref, manifest=manifest)


def verify_all(store: ArtifactStore) -> SweepReport:
    return store.verify_all()


def inspect_store(store: ArtifactStore) -> StoreSummary:
    return store.inspect_store()


__all__ = [
    "ArtifactStore",
    "VaultConfig",
    "ArtifactStoreConfig",
    "IngestMode",
    "VerificationMode",
    "VerificationStatus",
    "ArtifactBinding",
    "ArtifactHandle",
    "ArtifactPutReceipt",
    "VerificationReport",
    "SweepReport",
    "StoreSummary",
    "get_artifact",
    "artifact_exists",
    "open_artifact",
    "read_artifact_bytes",
    "iter_artifact_chunks",
    "list_refs",
    "verify_artifact",
    "verify_all",
    "inspect_store",
]
