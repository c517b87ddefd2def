"""Turn stored objects into read records (contract §6.1).

Records are projected straight from the columns a snapshot fetches; their other columns and
their canonical JSON are read (and parsed) only when first used (``record_details``). No
contract model is rebuilt (and re-validated) per record, which is what keeps snapshots of
100,000 records cheap.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
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
    _LazyFields,
)
from contexta.interpret.record_details import (
    Detail,
    HotRow,
    RecordDetails,
    json_fields,
    json_value,
)

if TYPE_CHECKING:
    from contexta.interpret.repository import RecordRowLike

__all__ = [
    "artifact_record",
    "batch_record",
    "deployment_record",
    "detail_from_row",
    "hot_row_from_row",
    "json_fields",
    "observation_from_row",
    "observations_from_hot",
    "provenance_view",
    "relation_record",
    "run_record",
    "sample_record",
    "stage_record",
    "text_or_none",
]

_LOG = logging.getLogger(__name__)
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


class _ObservationBuilder(_LazyFields):
    """Same slots as ``ObservationRecord`` but writable: records are filled as builders, then
    become ``ObservationRecord``s by ``__class__`` assignment (the layouts are identical).

    A snapshot builds up to 100,000s of records and a frozen dataclass's ``__init__`` (or a
    descriptor call per slot) costs several times what plain slot stores do (issue 3).
    """

    __slots__ = ObservationRecord.__slots__


def observations_from_hot(
    run_id: str, rows: Sequence[HotRow], details: RecordDetails
) -> tuple[list[ObservationRecord], Sequence[HotRow], int]:
    """Project one run's hot rows (sequence order) per the family table of contract §6.1.

    Returns ``(records, rows kept, unreadable count)``; ``records[i]`` is ``kept[i]``'s
    record. The fields the hot columns do not hold (``JSON_OBSERVATION_FIELDS`` and
    ``DETAIL_OBSERVATION_FIELDS``) come from ``details`` on first access.
    """
    records: list[ObservationRecord] = []
    append = records.append
    new = object.__new__
    builder, final = _ObservationBuilder, ObservationRecord
    skipped: list[int] = []
    for index, r in enumerate(rows):
        record_type = r[2]
        if record_type == "metric" or record_type == "span":
            value = r[9]
            if value is None:
                value = r[10]
                if value is None:
                    try:
                        value = _stored_value(r, details)
                    except (ValueError, KeyError, TypeError, AttributeError):
                        skipped.append(index)
                        _LOG.warning("skipping unreadable stored record %s", r[1])
                        continue
            step = r[12] if record_type == "metric" else None
        else:
            value = step = None
        o = new(builder)
        o.record_id = r[1]
        o.run_id = run_id
        o.stage_id = r[3]
        o.record_type = record_type
        o.key = r[8]
        o.observed_at = r[13]
        o.value = value
        o.batch_id = r[4]
        o.sample_id = r[5]
        o.operation_id = r[6]
        o.step = step
        o._lazy_source = details
        o.__class__ = final  # type: ignore[assignment]
        append(o)  # type: ignore[arg-type]
    if not skipped:
        return records, rows, 0
    dropped = set(skipped)
    kept = [row for index, row in enumerate(rows) if index not in dropped]
    return records, kept, len(skipped)


def hot_row_from_row(row: RecordRowLike) -> HotRow:
    """A ``RecordRowLike`` (any repository's rows) as a hot row (``run_ref`` appended)."""
    value = row.value
    exact = value if isinstance(value, int) else None
    return (
        row.sequence, row.record_ref, row.record_type, row.stage_ref, row.batch_ref,
        row.sample_ref, row.operation_ref, row.deployment_ref, row.key, exact,
        value if exact is None else None, None, row.step, row.observed_at, row.run_ref,
    )  # fmt: skip


def detail_from_row(row: RecordRowLike) -> Detail:
    """A ``RecordRowLike``'s details, body included (see ``record_details``)."""
    return (
        row.recorded_at,
        row.completeness_marker,
        row.degradation_marker,
        row.producer_ref,
        row.severity,
        row.record_json,
    )


def observation_from_row(row: RecordRowLike) -> ObservationRecord:
    """Project one stored record row per the family table of contract §6.1."""
    hot = hot_row_from_row(row)
    details = RecordDetails({row.run_ref: [hot]}, known={row.record_ref: detail_from_row(row)})
    records, _, unreadable = observations_from_hot(row.run_ref, [hot], details)
    if unreadable:
        _stored_value(hot, details)  # raises the reason
    return records[0]


def _stored_value(row: HotRow, details: RecordDetails) -> int | float | None:
    """A value the hot columns hold as text (huge int, NaN, ±inf), or only in the JSON."""
    text = row[11]
    if text is not None:
        special = _NON_FINITE_TEXT.get(text)
        return special if special is not None else int(text)
    # Defensive: a stored metric or span value always comes with its hot column.
    return json_value(details.detail(row[1], True)[-1])
