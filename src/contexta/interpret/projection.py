"""Turn stored objects into read records (contract §6.1).

Record rows are projected straight from their hot columns plus one ``json.loads`` of the
canonical record text: no contract model is rebuilt (and re-validated) per record, which is
what keeps snapshots of thousands of records cheap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from contexta.interpret.frozen_map import EMPTY_MAP, freeze_mapping
from contexta.interpret.read_models import (
    ArtifactRecord,
    BatchRecord,
    DeploymentRecord,
    ObservationRecord,
    ProvenanceView,
    RelationRecord,
    RunRecord,
    SampleRecord,
    StageRecord,
)

if TYPE_CHECKING:
    from contexta.interpret.repository import RecordRowLike

__all__ = [
    "artifact_record",
    "batch_record",
    "deployment_record",
    "observation_from_row",
    "provenance_view",
    "relation_record",
    "run_record",
    "sample_record",
    "stage_record",
    "text_or_none",
]

_NON_FINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def text_or_none(ref: object) -> str | None:
    """Ref text of a ``StableRef``/str, ``None`` kept."""
    return None if ref is None else str(ref)


def run_record(run: Any, project_name: str) -> RunRecord:
    return RunRecord(
        str(run.run_ref),
        project_name,
        run.name,
        run.status,
        run.started_at,
        run.ended_at,
        freeze_mapping(getattr(run, "tags", None)),
        freeze_mapping(getattr(run, "metadata", None)),
    )


def stage_record(stage: Any) -> StageRecord:
    order = stage.order_index
    return StageRecord(
        str(stage.stage_execution_ref),
        str(stage.run_ref),
        stage.stage_name,
        stage.status,
        0 if order is None else order,
        stage.started_at,
        stage.ended_at,
        EMPTY_MAP,
        freeze_mapping(getattr(stage, "metadata", None)),
    )


def batch_record(batch: Any) -> BatchRecord:
    order = batch.order_index
    return BatchRecord(
        str(batch.batch_execution_ref),
        str(batch.run_ref),
        str(batch.stage_execution_ref),
        batch.batch_name,
        batch.status,
        0 if order is None else order,
        batch.started_at,
        batch.ended_at,
        freeze_mapping(getattr(batch, "metadata", None)),
    )


def sample_record(sample: Any) -> SampleRecord:
    return SampleRecord(
        str(sample.sample_observation_ref),
        str(sample.run_ref),
        str(sample.stage_execution_ref),
        text_or_none(sample.batch_execution_ref),
        sample.sample_name,
        sample.observed_at,
        sample.retention_class,
        sample.redaction_profile,
        freeze_mapping(getattr(sample, "metadata", None)),
    )


def deployment_record(deployment: Any, project_name: str) -> DeploymentRecord:
    order = deployment.order_index
    return DeploymentRecord(
        str(deployment.deployment_execution_ref),
        project_name,
        deployment.deployment_name,
        deployment.status,
        text_or_none(deployment.run_ref),
        text_or_none(deployment.artifact_ref),
        deployment.started_at,
        deployment.ended_at,
        0 if order is None else order,
        freeze_mapping(getattr(deployment, "metadata", None)),
    )


def artifact_record(manifest: Any) -> ArtifactRecord:
    attributes = freeze_mapping(manifest.attributes)
    content_type = attributes.get("content_type")
    return ArtifactRecord(
        str(manifest.artifact_ref),
        str(manifest.run_ref),
        text_or_none(manifest.stage_execution_ref),
        manifest.artifact_kind,
        manifest.created_at,
        manifest.location_ref,
        manifest.hash_value,
        manifest.size_bytes,
        attributes,
        content_type if isinstance(content_type, str) else None,
    )


def relation_record(edge: Any) -> RelationRecord:
    return RelationRecord(
        str(edge.relation_ref),
        edge.relation_type,
        str(edge.source_ref),
        str(edge.target_ref),
        edge.recorded_at,
        edge.origin_marker,
        edge.confidence_marker,
    )


def provenance_view(run_id: str, record: Any) -> ProvenanceView:
    return ProvenanceView(
        run_id,
        str(record.provenance_ref),
        str(record.relation_ref),
        record.assertion_mode,
        record.asserted_at,
        text_or_none(record.formation_context_ref),
        text_or_none(record.policy_ref),
        text_or_none(record.evidence_bundle_ref),
    )


# Slot setters of ObservationRecord's eager fields, bound once: setting slots through their
# descriptors is the cheapest way to fill a frozen, slotted record (tens of thousands per
# snapshot loop).
_SET = {
    name: getattr(ObservationRecord, name).__set__
    for name in (
        "record_id",
        "run_id",
        "stage_id",
        "record_type",
        "key",
        "observed_at",
        "value",
        "completeness_marker",
        "degradation_marker",
        "producer_ref",
        "batch_id",
        "sample_id",
        "operation_id",
        "step",
        "recorded_at",
        "_lazy_source",
    )
}
_S_RECORD, _S_RUN, _S_STAGE, _S_TYPE = (
    _SET["record_id"],
    _SET["run_id"],
    _SET["stage_id"],
    _SET["record_type"],
)
_S_KEY, _S_OBSERVED, _S_VALUE = _SET["key"], _SET["observed_at"], _SET["value"]
_S_COMPLETE, _S_DEGRADED, _S_PRODUCER = (
    _SET["completeness_marker"],
    _SET["degradation_marker"],
    _SET["producer_ref"],
)
_S_BATCH, _S_SAMPLE, _S_OPERATION = _SET["batch_id"], _SET["sample_id"], _SET["operation_id"]
_S_STEP, _S_RECORDED, _S_SOURCE = _SET["step"], _SET["recorded_at"], _SET["_lazy_source"]
_NEW = object.__new__


def observation_from_row(row: RecordRowLike) -> ObservationRecord:
    """Project one stored record row per the family table of contract §6.1.

    Only the hot columns are read here; the JSON-derived fields (``payload``, ``message``,
    ``tags``, ``unit``, ``correlation_id``, ``schema_version``) are filled from the record's
    canonical JSON on first access (see ``read_models._LazyFields``).
    """
    record = _NEW(ObservationRecord)
    record_type = row.record_type
    value = row.value
    if record_type == "metric":
        step = row.step
        if value is None:  # defensive: the stored value always comes with its hot column
            value = _json_value(row.record_json)
    else:
        step = None
        if record_type != "span":
            value = None
    _S_RECORD(record, row.record_ref)
    _S_RUN(record, row.run_ref)
    _S_STAGE(record, row.stage_ref)
    _S_TYPE(record, record_type)
    _S_KEY(record, row.key)
    _S_OBSERVED(record, row.observed_at)
    _S_VALUE(record, value)
    _S_COMPLETE(record, row.completeness_marker)
    _S_DEGRADED(record, row.degradation_marker)
    _S_PRODUCER(record, row.producer_ref)
    _S_BATCH(record, row.batch_ref)
    _S_SAMPLE(record, row.sample_ref)
    _S_OPERATION(record, row.operation_ref)
    _S_STEP(record, step)
    _S_RECORDED(record, row.recorded_at)
    _S_SOURCE(record, partial(json_fields, record_type, row.record_json))
    return record


def _json_value(text: str) -> int | float | None:
    raw = json.loads(text)["payload"].get("value")
    if isinstance(raw, str):
        return _NON_FINITE_TEXT.get(raw)
    return raw  # type: ignore[no-any-return]


def json_fields(record_type: str, text: str) -> dict[str, Any]:
    """The JSON-derived fields of an ``ObservationRecord`` (contract §6.1 family table)."""
    document = json.loads(text)
    envelope = document["envelope"]
    payload: Mapping[str, Any] = document["payload"]
    message: str | None = None
    unit: str | None = None
    tags: Mapping[str, Any] = EMPTY_MAP
    if record_type == "metric":
        unit = payload.get("unit")
        tags = freeze_mapping(payload.get("tags"))
    elif record_type == "event":
        message = payload.get("message")
        raw_tags = (payload.get("attributes") or {}).get("tags")
        if isinstance(raw_tags, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw_tags.items()
        ):
            tags = freeze_mapping(raw_tags)
    elif record_type == "span":
        unit = "ms"
    else:  # degraded
        message = payload.get("summary")
    correlation = envelope.get("correlation_refs") or {}
    return {
        "message": message,
        "payload": freeze_mapping(payload),
        "tags": tags,
        "schema_version": envelope.get("schema_version", "1.0.0"),
        "correlation_id": correlation.get("trace_id") or correlation.get("session_id"),
        "unit": unit,
    }
