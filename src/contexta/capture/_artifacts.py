"""Preparing artifact registrations: path checks, refs, hash, manifest and lineage (§8.4)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contexta.capture._clock import utc_now_text
from contexta.capture._naming import child_component
from contexta.capture._records import ActiveContext
from contexta.capture.emissions import ArtifactRegistrationEmission
from contexta.contract import ArtifactManifest, LineageEdge, StableRef
from contexta.contract.refs import coerce_ref
from contexta.contract.text import check_token
from contexta.errors import ArtifactError, ConflictError, ValidationError, truncate_value

__all__ = [
    "PreparedArtifact",
    "hash_file",
    "location_text",
    "prepare_artifact",
    "produced_by_edge",
]


@dataclass(frozen=True, slots=True)
class PreparedArtifact:
    """A registration checked and ready to store; ``manifest`` is ``None`` when missing."""

    emission: ArtifactRegistrationEmission
    source: str
    manifest: ArtifactManifest | None
    edge: LineageEdge | None


def hash_file(path: str, chunk_size: int) -> tuple[str, int]:
    """SHA-256 and size of a file (only when the store could not hash it while copying)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def produced_by_edge(source_ref: StableRef, target_ref: StableRef,
                     operation_ref: StableRef | None) -> LineageEdge:
    """A deterministic ``produced_by`` edge, so replaying it stores it once."""
    key = hashlib.sha256(f"produced_by|{source_ref}|{target_ref}".encode()).hexdigest()[:24]
    return LineageEdge(relation_ref=f"relation:produced-by-{key}", relation_type="produced_by",
                       source_ref=source_ref, target_ref=target_ref,
                       recorded_at=utc_now_text(), origin_marker="explicit",
                       confidence_marker="high", operation_context_ref=operation_ref)


def _artifact_ref(emission: ArtifactRegistrationEmission, source: str, run_ref: StableRef,
                  taken: set[str]) -> StableRef:
    if emission.artifact_ref is None:
        component = child_component(Path(source).stem or "artifact", run_ref.value, "artifact",
                                    taken)
        return StableRef("artifact", f"{run_ref.value}.{component}")
    ref = coerce_ref(emission.artifact_ref, "artifact_ref", "artifact")
    if ref.value.rsplit(".", 1)[0] != run_ref.value:
        message = (f"artifact_ref {ref.text!r} must belong to the run: expected "
                   f"'artifact:{run_ref.value}.<key>'")
        raise ValidationError(message, code="stable_ref_prefix_mismatch",
                              details={"field": "artifact_ref", "value": ref.text,
                                       "allowed": f"artifact:{run_ref.value}.<key>"})
    if ref.components[-1] in taken:
        message = f"artifact_ref {ref.text!r} is already registered in this run"
        raise ConflictError(message, code="artifact_binding_conflict",
                            details={"field": "artifact_ref", "value": ref.text})
    return ref


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def location_text(source: str) -> str:
    """``source`` as storable text: undecodable bytes and control characters as escapes.

    POSIX file names are bytes and may hold anything but ``/`` and NUL; Python carries
    bytes that are not UTF-8 as lone surrogates. Stored text may hold neither those nor
    control characters, so they become ``\\xNN``. The file itself is still read through
    ``source``; only what is recorded about it is escaped.
    """
    try:
        source.encode("utf-8")
    except UnicodeEncodeError:
        source = os.fsencode(source).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", source)


def _source_path(emission: ArtifactRegistrationEmission) -> str:
    try:
        return os.fsdecode(os.path.abspath(os.fspath(emission.path)))
    except TypeError:
        message = f"path must be a str or os.PathLike; got {truncate_value(emission.path)}"
        raise ValidationError(message, details={"field": "path",
                                                "value": truncate_value(emission.path)}) from None


def prepare_artifact(emission: ArtifactRegistrationEmission, context: ActiveContext, *,
                     producer_ref: str, taken: set[str], lock: Any,
                     attributes: Any) -> PreparedArtifact:
    """Check the file, reserve its ref in ``taken``, build manifest and edge.

    The manifest has no hash or size yet: the artifact store computes both in the
    same read that copies the body in (``CaptureWriter.put_artifact``), so the
    file is read once. Every check that can reject the call runs here, before
    anything is stored. Only the ref reservation runs under ``lock`` (the run's).
    """
    run_ref = context.run_ref
    assert run_ref is not None
    check_token(emission.artifact_kind, "artifact_kind")
    source = _source_path(emission)
    shown = location_text(source)
    if not isinstance(emission.allow_missing, bool):
        message = f"allow_missing must be a bool; got {truncate_value(emission.allow_missing)}"
        raise ValidationError(message, details={"field": "allow_missing"})
    if os.path.isdir(source):
        message = f"artifact path {shown!r} is a directory; register a file (or an archive)"
        raise ArtifactError(message, code="capture_artifact_not_a_file",
                            details={"field": "path", "value": shown})
    if not os.path.exists(source):
        if emission.allow_missing:
            return PreparedArtifact(emission, source, None, None)
        message = (f"artifact path {shown!r} does not exist "
                   "(pass allow_missing=True to record a gap instead)")
        raise ArtifactError(message, code="capture_artifact_missing",
                            details={"field": "path", "value": shown})
    try:  # unreadable is a bad argument, found before anything is stored
        with open(source, "rb"):
            pass
    except OSError as exc:
        message = f"artifact path {shown!r} cannot be read: {exc.strerror or exc}"
        raise ValidationError(message, details={"field": "path", "value": shown,
                                                "errno": exc.errno}) from exc
    with lock:
        ref = _artifact_ref(emission, shown, run_ref, taken)
        taken.add(ref.components[-1])
    manifest = ArtifactManifest(
        artifact_ref=ref, artifact_kind=emission.artifact_kind, created_at=utc_now_text(),
        producer_ref=producer_ref, run_ref=run_ref, location_ref=shown,
        deployment_execution_ref=context.deployment_execution_ref,
        stage_execution_ref=context.stage_execution_ref,
        batch_execution_ref=context.batch_execution_ref,
        sample_observation_ref=context.sample_observation_ref,
        operation_context_ref=context.operation_context_ref,
        attributes=attributes,
    )
    owner = context.stage_execution_ref or run_ref
    edge = produced_by_edge(owner, ref, context.operation_context_ref)
    return PreparedArtifact(emission, source, manifest, edge)
