"""Record payloads: events, metrics, spans and degraded markers (contract.md §3.6.2).

``MetricPayload`` sits in the record store's hot loop, so its common case is inlined.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contexta.contract._base import ContractModel, model
from contexta.contract._errors import add_owner, fail
from contexta.contract._fields import (
    set_common,
    set_json_field,
    set_refs,
    set_subject_ref,
    set_timestamp,
)
from contexta.contract._mapping import EMPTY_MAPPING
from contexta.contract.enums import (
    DEGRADED_CATEGORIES,
    DEGRADED_SEVERITIES,
    EVENT_LEVELS,
    METRIC_AGGREGATION_SCOPES,
    ORIGIN_MARKERS,
    SCHEMA_VERSION,
    TRACE_SPAN_KINDS,
    TRACE_SPAN_STATUSES,
)
from contexta.contract.extensions import ExtensionFieldSet
from contexta.contract.metric_values import check_metric_step, check_metric_value
from contexta.contract.refs import StableRef
from contexta.contract.text import (
    _is_key,
    check_free_text,
    check_key,
    check_short_text,
    check_token,
    freeze_str_mapping,
)
from contexta.contract.timestamps import timestamp_le, timestamp_to_micros
from contexta.errors import ContractError

__all__ = ["DegradedPayload", "MetricPayload", "StructuredEventPayload", "TraceSpanPayload"]

_Extensions = tuple[ExtensionFieldSet, ...]
_Ref = StableRef | str
_TS = "record_invalid_timestamp"
_MARKER = "record_invalid_marker"


def _enum(value: object, allowed: frozenset[str], names: tuple[str, ...], field: str) -> None:
    """Record-plane enumerations fail with ``record_invalid_marker``."""
    if type(value) is not str or value not in allowed:
        fail(_MARKER, field, value, ", ".join(names))


_ORIGINS = frozenset(ORIGIN_MARKERS)
_LEVELS = frozenset(EVENT_LEVELS)
_SCOPES = frozenset(METRIC_AGGREGATION_SCOPES)
_SPAN_STATUSES = frozenset(TRACE_SPAN_STATUSES)
_SPAN_KINDS = frozenset(TRACE_SPAN_KINDS)
_CATEGORIES = frozenset(DEGRADED_CATEGORIES)
_SEVERITIES = frozenset(DEGRADED_SEVERITIES)


@model(
    event_key="s", level="s", message="v", subject_ref="r", attributes="m",
    origin_marker="s", schema_version="s", extensions="x",
)  # fmt: skip
class StructuredEventPayload(ContractModel):
    event_key: str
    level: str
    message: str
    subject_ref: _Ref | None = None
    attributes: Mapping[str, Any] | None = None
    origin_marker: str = "explicit_capture"
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        try:
            check_key(self.event_key, "event_key")
            _enum(self.level, _LEVELS, EVENT_LEVELS, "level")
            check_free_text(self.message, "message", allow_blank=False)
            set_subject_ref(self)
            set_json_field(self, "attributes")
            _enum(self.origin_marker, _ORIGINS, ORIGIN_MARKERS, "origin_marker")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "StructuredEventPayload") from None


@model(
    metric_key="s", value="mv", value_type="s", unit="v", aggregation_scope="s",
    subject_ref="r", slice_ref="so", tags="m", summary_basis="so", schema_version="s",
    extensions="x", step="i",
)  # fmt: skip
class MetricPayload(ContractModel):
    metric_key: str
    value: int | float
    value_type: str
    unit: str | None = None
    aggregation_scope: str = "step"
    subject_ref: _Ref | None = None
    slice_ref: str | None = None
    tags: Mapping[str, str] | None = None
    summary_basis: str | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()
    step: int | None = None

    def __post_init__(self) -> None:
        # Hot path (see RecordEnvelope); runs on the mutable twin.
        twin: Any = self  # the mutable twin during construction (see _base.model)
        value: Any
        try:
            value = self.metric_key
            if type(value) is not str or not _is_key(value):
                check_key(value, "metric_key")
            value = self.value
            value_type = self.value_type
            if type(value) is not float or type(value_type) is not str or value_type != "float64":
                twin.value = check_metric_value(value, self.value_type)
            if self.unit is not None:
                check_short_text(self.unit, "unit", 64)
            value = self.aggregation_scope
            if type(value) is not str or value not in _SCOPES:
                _enum(value, _SCOPES, METRIC_AGGREGATION_SCOPES, "aggregation_scope")
            if self.subject_ref is not None:
                set_subject_ref(self)
            if self.slice_ref is not None:
                check_key(self.slice_ref, "slice_ref")
            tags = self.tags
            twin.tags = EMPTY_MAPPING if tags is None else freeze_str_mapping(tags, "tags")
            if self.summary_basis is not None:
                check_token(self.summary_basis, "summary_basis")
            step = self.step
            if step is not None:
                twin.step = check_metric_step(step)
            ext = self.extensions
            if self.schema_version is not SCHEMA_VERSION or type(ext) is not tuple or ext:
                set_common(self)
        except ContractError as err:
            raise add_owner(err, "MetricPayload") from None


@model(
    span_id="v", trace_id="v", parent_span_id="v", span_name="v", started_at="s",
    ended_at="s", status="s", span_kind="s", attributes="m", linked_refs="rs",
    schema_version="s", extensions="x",
)  # fmt: skip
class TraceSpanPayload(ContractModel):
    span_id: str
    trace_id: str
    parent_span_id: str | None
    span_name: str
    started_at: str
    ended_at: str
    status: str
    span_kind: str
    attributes: Mapping[str, Any] | None = None
    linked_refs: tuple[_Ref, ...] = ()
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        try:
            check_short_text(self.span_id, "span_id", 128)
            check_short_text(self.trace_id, "trace_id", 128)
            if self.parent_span_id is not None:
                check_short_text(self.parent_span_id, "parent_span_id", 128)
            check_free_text(self.span_name, "span_name", max_len=512, allow_blank=False)
            started = set_timestamp(self, "started_at", _TS)
            ended = set_timestamp(self, "ended_at", _TS)
            if not timestamp_le(started, ended):
                fail(
                    "record_invalid_time_order",
                    "ended_at",
                    ended,
                    f"an instant at or after started_at {started}",
                    "span ended before it started",
                )
            _enum(self.status, _SPAN_STATUSES, TRACE_SPAN_STATUSES, "status")
            _enum(self.span_kind, _SPAN_KINDS, TRACE_SPAN_KINDS, "span_kind")
            set_json_field(self, "attributes")
            set_refs(self, "linked_refs")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "TraceSpanPayload") from None

    @property
    def duration_ms(self) -> float:
        """``ended_at - started_at`` in milliseconds."""
        return (timestamp_to_micros(self.ended_at) - timestamp_to_micros(self.started_at)) / 1000


@model(
    issue_key="s", category="s", severity="s", summary="v", subject_ref="r",
    origin_marker="s", attributes="m", schema_version="s", extensions="x",
)  # fmt: skip
class DegradedPayload(ContractModel):
    issue_key: str
    category: str
    severity: str
    summary: str
    subject_ref: _Ref | None = None
    origin_marker: str = "explicit_capture"
    attributes: Mapping[str, Any] | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        try:
            check_key(self.issue_key, "issue_key")
            _enum(self.category, _CATEGORIES, DEGRADED_CATEGORIES, "category")
            _enum(self.severity, _SEVERITIES, DEGRADED_SEVERITIES, "severity")
            check_free_text(self.summary, "summary", allow_blank=False)
            set_subject_ref(self)
            _enum(self.origin_marker, _ORIGINS, ORIGIN_MARKERS, "origin_marker")
            set_json_field(self, "attributes")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "DegradedPayload") from None
