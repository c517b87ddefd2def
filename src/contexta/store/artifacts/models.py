"""Value objects of the artifact plane (contract.md §4.5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = [
    "ArtifactBinding",
    "ArtifactHandle",
    "ArtifactPutReceipt",
    "IngestMode",
    "StoreSummary",
    "SweepReport",
    "VerificationMode",
    "VerificationReport",
    "VerificationStatus",
]


class IngestMode(StrEnum):
    COPY = "copy"
    MOVE = "move"
    ADOPT = "adopt"


class VerificationMode(StrEnum):
    NONE = "none"
    STORED = "stored"
    MANIFEST_IF_AVAILABLE = "manifest_if_available"
    STRICT = "strict"


class VerificationStatus(StrEnum):
    VERIFIED = "verified"
    MISSING = "missing"
    SIZE_MISMATCH = "size_mismatch"
    HASH_MISMATCH = "hash_mismatch"


@dataclass(frozen=True, slots=True)
class ArtifactBinding:
    artifact_ref: str
    artifact_kind: str
    binding_id: str
    source_name: str | None
    ingest_mode: str
    size_bytes: int
    hash_algorithm: str
    hash_value: str
    layout_version: str
    created_at: str
    manifest_snapshot: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifact_ref": self.artifact_ref,
            "artifact_kind": self.artifact_kind,
            "binding_id": self.binding_id,
            "source_name": self.source_name,
            "ingest_mode": self.ingest_mode,
            "size_bytes": self.size_bytes,
            "hash_algorithm": self.hash_algorithm,
            "hash_value": self.hash_value,
            "layout_version": self.layout_version,
            "created_at": self.created_at,
            "manifest_snapshot": dict(self.manifest_snapshot),
        }


@dataclass(frozen=True, slots=True)
class ArtifactHandle:
    binding: ArtifactBinding
    path: Path


@dataclass(frozen=True, slots=True)
class ArtifactPutReceipt:
    binding: ArtifactBinding
    path: Path
    bytes_written: int


@dataclass(frozen=True, slots=True)
class VerificationReport:
    artifact_ref: str
    status: VerificationStatus
    verified: bool
    exists: bool
    actual_size_bytes: int | None
    expected_size_bytes: int | None
    actual_hash_value: str | None
    expected_hash_value: str | None
    checked_at: str
    messages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SweepReport:
    reports: tuple[VerificationReport, ...]
    verified_count: int
    missing_count: int
    drifted_count: int


@dataclass(frozen=True, slots=True)
class StoreSummary:
    artifact_count: int
    total_bytes: int
    kinds: Mapping[str, int]
    verified_count: int
    missing_count: int
    drifted_count: int
    orphan_body_count: int
