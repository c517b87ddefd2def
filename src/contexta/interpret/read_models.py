"""Read records (contract §6.1): the frozen, flat view of stored objects that queries return.

Write models live in ``contexta.contract``; these are what readers get back. ``*_id`` fields
hold full ref text and timestamps are canonical strings. Mapping fields are read-only
(``FrozenMap``) and sequence fields are tuples, so a result can be shared between
threads and cached without copying.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contexta.interpret.frozen_map import EMPTY_MAP, FrozenMap, freeze_mapping

__all__ = [
    "DETAIL_OBSERVATION_FIELDS",
    "JSON_OBSERVATION_FIELDS",
    "LAZY_OBSERVATION_FIELDS",
    "ArtifactRecord",
    "BatchRecord",
    "DeploymentRecord",
    "ObservationRecord",
    "ProvenanceView",
    "RelationRecord",
    "RunRecord",
    "SampleRecord",
    "StageRecord",
]


def _empty() -> Mapping[str, Any]:
    return EMPTY_MAP


class _FrozenMappings:
    """Mixin: turn plain dicts given by callers into read-only mappings."""

    __slots__ = ()
    _mapping_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in self._mapping_fields:
            value = getattr(self, name)
            if type(value) is not FrozenMap:
                object.__setattr__(self, name, freeze_mapping(value))


@dataclass(frozen=True, slots=True)
class RunRecord(_FrozenMappings):
    run_id: str
    project_name: str
    name: str
    status: str
    started_at: str | None = None
    ended_at: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)
    metadata: Mapping[str, Any] = field(default_factory=_empty)

    _mapping_fields = ("tags", "metadata")


@dataclass(frozen=True, slots=True)
class StageRecord(_FrozenMappings):
    stage_id: str
    run_id: str
    name: str
    status: str
    order: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    tags: Mapping[str, str] = field(default_factory=_empty)
    metadata: Mapping[str, Any] = field(default_factory=_empty)

    _mapping_fields = ("tags", "metadata")


@dataclass(frozen=True, slots=True)
class DeploymentRecord(_FrozenMappings):
    deployment_id: str
    project_name: str
    name: str
    status: str
    run_id: str | None = None
    artifact_ref: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    order: int = 0
    metadata: Mapping[str, Any] = field(default_factory=_empty)

    _mapping_fields = ("metadata",)


@dataclass(frozen=True, slots=True)
class BatchRecord(_FrozenMappings):
    batch_id: str
    run_id: str
    stage_id: str
    name: str
    status: str
    order: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=_empty)

    _mapping_fields = ("metadata",)


@dataclass(frozen=True, slots=True)
class SampleRecord(_FrozenMappings):
    sample_id: str
    run_id: str
    stage_id: str
    batch_id: str | None
    name: str
    observed_at: str
    retention_class: str | None = None
    redaction_profile: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=_empty)

    _mapping_fields = ("metadata",)


@dataclass(frozen=True, slots=True)
class ArtifactRecord(_FrozenMappings):
    artifact_ref: str
    run_id: str
    stage_id: str | None
    kind: str
    created_at: str | None = None
    location: str | None = None
    hash_value: str | None = None
    size_bytes: int | None = None
    attributes: Mapping[str, Any] = field(default_factory=_empty)
    content_type: str | None = None

    _mapping_fields = ("attributes",)


#: Fields that need the record's JSON; records read from the store fill them on first access.
JSON_OBSERVATION_FIELDS = frozenset(
    {"message", "payload", "tags", "schema_version", "correlation_id", "unit"}
)
#: Fields from stored columns that snapshots read only on first access (snapshots themselves
#: never need them, and every column fetched costs time at 100,000 records).
DETAIL_OBSERVATION_FIELDS = frozenset(
    {"recorded_at", "completeness_marker", "degradation_marker", "producer_ref"}
)
LAZY_OBSERVATION_FIELDS = JSON_OBSERVATION_FIELDS | DETAIL_OBSERVATION_FIELDS


class _LazyFields(_FrozenMappings):
    """Base holding the private slot of ``ObservationRecord``'s deferred fields.

    Reading and parsing every record's JSON is most of a snapshot's cost, and most readers
    look only at ``record_type``, ``key`` and ``value``. Records built by the snapshot reader
    leave the lazy slots unset and keep a loader here: ``loader(record, name)`` returns the
    values of ``name``'s group (``JSON_OBSERVATION_FIELDS`` or ``DETAIL_OBSERVATION_FIELDS``),
    which fill their slots; one loader serves many records (see ``record_details``). Equality,
    ``repr``, pickling and ``dataclasses`` helpers read fields through ``getattr`` and so see
    the filled values.
    """

    __slots__ = ("_lazy_source",)

    def __getattr__(self, name: str) -> Any:
        if name in LAZY_OBSERVATION_FIELDS:
            try:
                loader = object.__getattribute__(self, "_lazy_source")
            except AttributeError:
                pass
            else:
                values = loader(self, name)
                for field_name, value in values.items():
                    object.__setattr__(self, field_name, value)
                return values[name]
        message = f"{type(self).__name__!r} object has no attribute {name!r}"
        raise AttributeError(message)


@dataclass(frozen=True, slots=True)
class ObservationRecord(_LazyFields):
    """One stored record, projected per family as contract §6.1 specifies.

    ``value`` is the metric value exactly as stored (int or float, NaN/±inf kept) or a span's
    duration in milliseconds; ``payload`` is the payload's ``to_dict()`` form.
    """

    record_id: str
    run_id: str
    stage_id: str | None
    record_type: str
    key: str
    observed_at: str
    value: int | float | None = None
    message: str | None = None
    completeness_marker: str = "complete"
    degradation_marker: str = "none"
    payload: Mapping[str, Any] = field(default_factory=_empty)
    tags: Mapping[str, str] = field(default_factory=_empty)
    schema_version: str = "1"
    producer_ref: str | None = None
    correlation_id: str | None = None
    unit: str | None = None
    batch_id: str | None = None
    sample_id: str | None = None
    operation_id: str | None = None
    step: int | None = None
    recorded_at: str | None = None

    _mapping_fields = ("payload", "tags")


@dataclass(frozen=True, slots=True)
class RelationRecord:
    relation_ref: str
    relation_type: str
    source_ref: str
    target_ref: str
    recorded_at: str
    origin_marker: str
    confidence_marker: str


@dataclass(frozen=True, slots=True)
class ProvenanceView:
    run_id: str
    provenance_ref: str
    relation_ref: str
    assertion_mode: str
    asserted_at: str
    formation_context_ref: str | None = None
    policy_ref: str | None = None
    evidence_bundle_ref: str | None = None
