"""Record models: the envelope and the four record families (contract.md §3.6.2).

The payloads live in ``record_payloads``. ``RecordEnvelope`` sits in the record store's
hot loop, so its checks are written out inline and lean on the ref/timestamp/key caches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contexta.contract._base import ContractModel, model
from contexta.contract._errors import add_owner, fail
from contexta.contract._fields import (
    set_common,
    set_optional_ref,
)
from contexta.contract._owners import check_child_of, check_prefix
from contexta.contract.enums import (
    COMPLETENESS_MARKERS,
    DEGRADATION_MARKERS,
    RECORD_TYPES,
    SCHEMA_VERSION,
)
from contexta.contract.extensions import ExtensionFieldSet
from contexta.contract.record_payloads import (
    DegradedPayload,
    MetricPayload,
    StructuredEventPayload,
    TraceSpanPayload,
    _enum,
)
from contexta.contract.refs import StableRef, coerce_ref
from contexta.contract.refs import _parse_cached as _parse
from contexta.contract.refs import parse_ref_uncached as _parse_fresh
from contexta.contract.text import (
    _is_key,
    check_key,
    check_short_text,
)
from contexta.contract.timestamps import _normalize_text as _norm_ts
from contexta.contract.timestamps import (
    normalize_timestamp,
    timestamp_le,
)
from contexta.errors import ContractError

__all__ = [
    "CorrelationRefs",
    "DegradedRecord",
    "MetricRecord",
    "RecordEnvelope",
    "StructuredEventRecord",
    "TraceSpanRecord",
]

_set = object.__setattr__
_Extensions = tuple[ExtensionFieldSet, ...]
_Ref = StableRef | str
_TS = "record_invalid_timestamp"
_MARKER = "record_invalid_marker"


_RECORD_TYPES = frozenset(RECORD_TYPES)
_COMPLETENESS = frozenset(COMPLETENESS_MARKERS)
_DEGRADATION = frozenset(DEGRADATION_MARKERS)


@model(trace_id="v", session_id="v", schema_version="s", extensions="x")
class CorrelationRefs(ContractModel):
    trace_id: str | None = None
    session_id: str | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        try:
            if self.trace_id is not None:
                check_short_text(self.trace_id, "trace_id", 255)
            if self.session_id is not None:
                check_short_text(self.session_id, "session_id", 255)
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "CorrelationRefs") from None


_NO_CORRELATION = CorrelationRefs()


def _owned_ref(
    obj: Any, field: str, kind: str, owner: StableRef | None, owner_field: str
) -> StableRef | None:
    """An optional ref that must sit directly under ``owner`` (stage/batch/sample/op)."""
    value = obj.__getattribute__(field)
    if value is None:
        return None
    ref = coerce_ref(value, field, kind)
    if ref is not value:
        _set(obj, field, ref)
    if owner is None:
        fail(
            "stable_ref_prefix_mismatch",
            field,
            value,
            f"only together with {owner_field}",
            f"{field} requires {owner_field}",
        )
    check_child_of(ref, owner, field, owner_field)
    return ref


@model(
    record_ref="R", record_type="s", recorded_at="s", observed_at="s", producer_ref="s",
    run_ref="R", deployment_execution_ref="r", stage_execution_ref="r",
    batch_execution_ref="r", sample_observation_ref="r", operation_context_ref="r",
    correlation_refs="n", completeness_marker="s", degradation_marker="s",
    schema_version="s", extensions="x",
)  # fmt: skip
class RecordEnvelope(ContractModel):
    record_ref: _Ref
    record_type: str
    recorded_at: str
    observed_at: str
    producer_ref: str
    run_ref: _Ref
    deployment_execution_ref: _Ref | None = None
    stage_execution_ref: _Ref | None = None
    batch_execution_ref: _Ref | None = None
    sample_observation_ref: _Ref | None = None
    operation_context_ref: _Ref | None = None
    correlation_refs: CorrelationRefs = _NO_CORRELATION
    completeness_marker: str = "complete"
    degradation_marker: str = "none"
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        # Hot path of the record store: the common case (str refs already seen, canonical
        # timestamps, no optional refs beyond stage/batch) is inlined; every other case and
        # every error goes through the general helpers. Runs on the mutable twin (see
        # ``_base.model``), so plain attribute assignment stores normalized values.
        twin: Any = self  # the mutable twin during construction (see _base.model)
        value: Any
        try:
            value = self.record_ref
            record = _parse_fresh(value) if type(value) is str else None
            if type(record) is not StableRef or record._kind != "record":
                record = coerce_ref(value, "record_ref", "record")
            twin.record_ref = record
            value = self.record_type
            if type(value) is not str or value not in _RECORD_TYPES:
                _enum(value, _RECORD_TYPES, RECORD_TYPES, "record_type")
            value = self.recorded_at
            recorded = _norm_ts(value) if type(value) is str else None
            if recorded is None:
                recorded = normalize_timestamp(value, "recorded_at", _TS)
            twin.recorded_at = recorded
            value = self.observed_at
            observed = _norm_ts(value) if type(value) is str else None
            if observed is None:
                observed = normalize_timestamp(value, "observed_at", _TS)
            twin.observed_at = observed
            if recorded != observed and not timestamp_le(observed, recorded):
                fail(
                    "record_invalid_time_order",
                    "recorded_at",
                    recorded,
                    f"an instant at or after observed_at {observed}",
                    "recorded before it was observed",
                )
            value = self.producer_ref
            if type(value) is not str or not _is_key(value):
                check_key(value, "producer_ref")
            value = self.run_ref
            run = _parse(value) if type(value) is str else None
            if type(run) is not StableRef or run._kind != "run":
                run = coerce_ref(value, "run_ref", "run")
            twin.run_ref = run
            if record._components[:2] != run._components:
                check_prefix(record, run, 2, "record_ref", "run_ref")
            if self.deployment_execution_ref is not None:
                deployment = set_optional_ref(self, "deployment_execution_ref", "deployment")
                check_prefix(deployment, run, 1, "deployment_execution_ref", "run_ref")  # type: ignore[arg-type]
            value = self.stage_execution_ref
            stage: Any = None
            batch: Any
            owner: Any
            if value is not None:
                stage = _parse(value) if type(value) is str else None
                if type(stage) is not StableRef or stage._kind != "stage":
                    stage = coerce_ref(value, "stage_execution_ref", "stage")
                twin.stage_execution_ref = stage
                if stage._components[:2] != run._components or len(stage._components) != 3:
                    check_child_of(stage, run, "stage_execution_ref", "run_ref")
            owner, owner_field = stage, "stage_execution_ref"
            value = self.batch_execution_ref
            if value is not None:
                batch = _parse(value) if type(value) is str else None
                if (
                    type(batch) is not StableRef
                    or batch._kind != "batch"
                    or stage is None
                    or batch._components[:3] != stage._components
                ):
                    batch = _owned_ref(self, "batch_execution_ref", "batch", stage, owner_field)
                twin.batch_execution_ref = batch
                owner, owner_field = batch, "batch_execution_ref"
            if self.sample_observation_ref is not None:
                _owned_ref(self, "sample_observation_ref", "sample", owner, owner_field)
            if self.operation_context_ref is not None:
                _owned_ref(self, "operation_context_ref", "op", owner, owner_field)
            correlation = self.correlation_refs
            if type(correlation) is not CorrelationRefs:
                twin.correlation_refs = _coerce_correlation(correlation)
            marker = self.completeness_marker
            if type(marker) is not str or marker not in _COMPLETENESS:
                _enum(marker, _COMPLETENESS, COMPLETENESS_MARKERS, "completeness_marker")
            marker = self.degradation_marker
            if type(marker) is not str or marker not in _DEGRADATION:
                _enum(marker, _DEGRADATION, DEGRADATION_MARKERS, "degradation_marker")
            ext = self.extensions
            if self.schema_version is not SCHEMA_VERSION or type(ext) is not tuple or ext:
                set_common(self)
        except ContractError as err:
            raise add_owner(err, "RecordEnvelope") from None


def _coerce_correlation(value: object) -> CorrelationRefs:
    if value is None:
        return _NO_CORRELATION
    if isinstance(value, Mapping):
        unknown = set(value) - {"trace_id", "session_id", "schema_version", "extensions"}
        if not unknown:
            return CorrelationRefs(**value)
    fail(_MARKER, "correlation_refs", value, "a CorrelationRefs (or a mapping of its fields)")


def _check_record(obj: Any, record_type: str, payload_cls: type, owner: str) -> None:
    try:
        envelope = obj.envelope
        if type(envelope) is not RecordEnvelope:
            fail("record_type_mismatch", "envelope", envelope, "a RecordEnvelope")
        if type(obj.payload) is not payload_cls:
            fail("record_type_mismatch", "payload", obj.payload, f"a {payload_cls.__name__}")
        if envelope.record_type != record_type:
            fail(
                "record_type_mismatch",
                "envelope.record_type",
                envelope.record_type,
                f"{record_type!r} for {owner}",
            )
        if record_type == "degraded":
            if envelope.degradation_marker == "none":
                fail(
                    _MARKER,
                    "envelope.degradation_marker",
                    "none",
                    "a marker other than 'none' for a degraded record",
                )
        elif envelope.completeness_marker == "absent":
            fail(
                _MARKER,
                "envelope.completeness_marker",
                "absent",
                f"a marker other than 'absent' for {owner}",
            )
        set_common(obj)
    except ContractError as err:
        raise add_owner(err, owner) from None


@model(envelope="n", payload="n", schema_version="s", extensions="x")
class StructuredEventRecord(ContractModel):
    envelope: RecordEnvelope
    payload: StructuredEventPayload
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        _check_record(self, "event", StructuredEventPayload, "StructuredEventRecord")


@model(envelope="n", payload="n", schema_version="s", extensions="x")
class MetricRecord(ContractModel):
    envelope: RecordEnvelope
    payload: MetricPayload
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        _check_record(self, "metric", MetricPayload, "MetricRecord")


@model(envelope="n", payload="n", schema_version="s", extensions="x")
class TraceSpanRecord(ContractModel):
    envelope: RecordEnvelope
    payload: TraceSpanPayload
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        _check_record(self, "span", TraceSpanPayload, "TraceSpanRecord")


@model(envelope="n", payload="n", schema_version="s", extensions="x")
class DegradedRecord(ContractModel):
    envelope: RecordEnvelope
    payload: DegradedPayload
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        _check_record(self, "degraded", DegradedPayload, "DegradedRecord")
