"""Artifact manifests, lineage edges and provenance records (contract.md §3.6.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from contexta.contract._base import ContractModel, model
from contexta.contract._errors import add_owner, fail
from contexta.contract._fields import (
    set_common,
    set_json_field,
    set_optional_ref,
    set_ref,
    set_refs,
    set_timestamp,
)
from contexta.contract._lifecycle import check_optional_count
from contexta.contract._owners import check_child_of, check_prefix
from contexta.contract.enums import (
    ASSERTION_MODES,
    CONFIDENCE_MARKERS,
    LINEAGE_ORIGIN_MARKERS,
    RELATION_TYPES,
    SCHEMA_VERSION,
)
from contexta.contract.extensions import ExtensionFieldSet
from contexta.contract.refs import StableRef
from contexta.contract.text import check_key, check_short_text, check_token
from contexta.errors import ContractError

__all__ = ["ArtifactManifest", "LineageEdge", "ProvenanceRecord"]

_Extensions = tuple[ExtensionFieldSet, ...]
_Ref = StableRef | str
_HASH_RE = re.compile(r"(?:sha256:)?[0-9a-f]{64}")
_ENUM_CODE = "context_invalid_string"


def _enum(value: object, allowed: tuple[str, ...], field: str) -> None:
    if type(value) is not str or value not in allowed:
        fail(_ENUM_CODE, field, value, ", ".join(allowed))


def _owned(obj: Any, field: str, kind: str, owner: StableRef | None, owner_field: str) -> None:
    ref = set_optional_ref(obj, field, kind)
    if ref is None:
        return
    if owner is None:
        fail(
            "stable_ref_prefix_mismatch",
            field,
            ref._text,
            f"only together with {owner_field}",
            f"{field} requires {owner_field}",
        )
    check_child_of(ref, owner, field, owner_field)


@model(
    artifact_ref="R", artifact_kind="s", created_at="s", producer_ref="s", run_ref="R",
    location_ref="v", deployment_execution_ref="r", stage_execution_ref="r",
    batch_execution_ref="r", sample_observation_ref="r", operation_context_ref="r",
    hash_value="so", size_bytes="i", attributes="m", schema_version="s", extensions="x",
)  # fmt: skip
class ArtifactManifest(ContractModel):
    artifact_ref: _Ref
    artifact_kind: str
    created_at: str
    producer_ref: str
    run_ref: _Ref
    location_ref: str
    deployment_execution_ref: _Ref | None = None
    stage_execution_ref: _Ref | None = None
    batch_execution_ref: _Ref | None = None
    sample_observation_ref: _Ref | None = None
    operation_context_ref: _Ref | None = None
    hash_value: str | None = None
    size_bytes: int | None = None
    attributes: Mapping[str, Any] | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        try:
            artifact = set_ref(self, "artifact_ref", "artifact")
            check_token(self.artifact_kind, "artifact_kind")
            set_timestamp(self, "created_at")
            check_key(self.producer_ref, "producer_ref")
            run = set_ref(self, "run_ref", "run")
            check_prefix(artifact, run, 2, "artifact_ref", "run_ref")
            check_short_text(self.location_ref, "location_ref", 4096)
            deployment = set_optional_ref(self, "deployment_execution_ref", "deployment")
            if deployment is not None:
                check_prefix(deployment, run, 1, "deployment_execution_ref", "run_ref")
            stage = set_optional_ref(self, "stage_execution_ref", "stage")
            if stage is not None:
                check_child_of(stage, run, "stage_execution_ref", "run_ref")
            batch_field = "batch_execution_ref"
            _owned(self, batch_field, "batch", stage, "stage_execution_ref")
            batch = self.batch_execution_ref
            owner: StableRef | None = stage
            owner_field = "stage_execution_ref"
            if isinstance(batch, StableRef):
                owner, owner_field = batch, batch_field
            _owned(self, "sample_observation_ref", "sample", owner, owner_field)
            _owned(self, "operation_context_ref", "op", owner, owner_field)
            digest = self.hash_value
            if digest is not None and (
                not isinstance(digest, str) or _HASH_RE.fullmatch(digest) is None
            ):
                allowed = "64 lower-case hex characters of SHA-256, optionally 'sha256:'-prefixed"
                fail("context_invalid_string", "hash_value", digest, allowed)
            check_optional_count(self, "size_bytes")
            set_json_field(self, "attributes")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "ArtifactManifest") from None


@model(
    relation_ref="R", relation_type="s", source_ref="R", target_ref="R", recorded_at="s",
    origin_marker="s", confidence_marker="s", operation_context_ref="r", evidence_refs="rs",
    schema_version="s", extensions="x",
)  # fmt: skip
class LineageEdge(ContractModel):
    """Source is upstream of target: it came first or was used to make the target."""

    relation_ref: _Ref
    relation_type: str
    source_ref: _Ref
    target_ref: _Ref
    recorded_at: str
    origin_marker: str
    confidence_marker: str
    operation_context_ref: _Ref | None = None
    evidence_refs: tuple[_Ref, ...] = ()
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        try:
            set_ref(self, "relation_ref", "relation")
            _enum(self.relation_type, RELATION_TYPES, "relation_type")
            source = set_ref(self, "source_ref", None)
            target = set_ref(self, "target_ref", None)
            if source == target:
                fail(
                    "lineage_self_relation",
                    "target_ref",
                    target._text,
                    "a ref different from source_ref",
                    "an edge from a ref to itself",
                )
            set_timestamp(self, "recorded_at")
            _enum(self.origin_marker, LINEAGE_ORIGIN_MARKERS, "origin_marker")
            _enum(self.confidence_marker, CONFIDENCE_MARKERS, "confidence_marker")
            set_optional_ref(self, "operation_context_ref", "op")
            set_refs(self, "evidence_refs")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "LineageEdge") from None


@model(
    provenance_ref="R", relation_ref="R", assertion_mode="s", asserted_at="s",
    formation_context_ref="r", policy_ref="so", evidence_bundle_ref="r",
    schema_version="s", extensions="x",
)  # fmt: skip
class ProvenanceRecord(ContractModel):
    provenance_ref: _Ref
    relation_ref: _Ref
    assertion_mode: str
    asserted_at: str
    formation_context_ref: _Ref | None = None
    policy_ref: str | None = None
    evidence_bundle_ref: _Ref | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        try:
            set_ref(self, "provenance_ref", "provenance")
            set_ref(self, "relation_ref", "relation")
            _enum(self.assertion_mode, ASSERTION_MODES, "assertion_mode")
            set_timestamp(self, "asserted_at")
            set_optional_ref(self, "formation_context_ref", None)
            if self.policy_ref is not None:
                check_key(self.policy_ref, "policy_ref")
            set_optional_ref(self, "evidence_bundle_ref", "artifact")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "ProvenanceRecord") from None
