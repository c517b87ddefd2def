"""Checking bodies against what was claimed: at ingest (manifest claims) and later (sweeps).

Kept apart from ``store.py`` so the store module holds the write and read paths only.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from contexta.contract.timestamps import now_timestamp
from contexta.errors import ArtifactError
from contexta.store.artifacts.models import StoreSummary, VerificationReport, VerificationStatus

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from contexta.contract import ArtifactManifest
    from contexta.store.artifacts.models import ArtifactHandle, SweepReport

__all__ = ["check_claims", "summarize", "verify_body"]


def check_claims(mode: str, manifest: ArtifactManifest, digest: str, size: int) -> None:
    """Raise ``artifact_claim_mismatch`` when the manifest's size or hash is not the body's."""
    if mode in ("none", "stored"):
        return
    claimed_hash = manifest.hash_value.removeprefix("sha256:") if manifest.hash_value else None
    if mode == "strict" and (claimed_hash is None or manifest.size_bytes is None):
        msg = "manifest must state size_bytes and hash_value (verification_mode 'strict')"
        raise ArtifactError(msg, code="artifact_claim_mismatch", details={"field": "manifest"})
    if manifest.size_bytes is not None and manifest.size_bytes != size:
        msg = f"manifest size_bytes {manifest.size_bytes} does not match the body ({size} bytes)"
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


def verify_body(
    handle: ArtifactHandle, manifest: ArtifactManifest | None, chunk_size: int
) -> VerificationReport:
    """Re-hash a stored body and compare it with its binding (or ``manifest``'s claims)."""
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
        while block := body.read(chunk_size):
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


def summarize(sweep: SweepReport, rows: Sequence[Any], objects: Path) -> StoreSummary:
    """Counts by kind, bytes, the sweep's verdicts and bodies no binding points to.

    ``rows`` are ``(kind, size_bytes, hash_value)`` of every binding.
    """
    kinds: dict[str, int] = {}
    for kind, _, _ in rows:
        kinds[kind] = kinds.get(kind, 0) + 1
    bound = {digest for _, _, digest in rows}
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
