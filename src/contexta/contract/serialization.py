"""Canonical payloads, canonical JSON, and the strict readers (contract.md §3.8).

``to_json`` of a model is deterministic: payload keys are emitted sorted, separators are
compact, non-ASCII stays as is and non-finite numbers never appear (metric values are
spelled ``"NaN"``/``"Infinity"``/``"-Infinity"``; JSON mappings were cleaned at
construction). Readers reject unknown keys and re-run every validation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, TypeVar

from contexta.contract._base import ContractModel, encode_sorted, thaw
from contexta.contract._mapping import FrozenMapping
from contexta.contract.artifact_models import ArtifactManifest, LineageEdge, ProvenanceRecord
from contexta.contract.context_models import (
    BatchExecution,
    DeploymentExecution,
    EnvironmentSnapshot,
    OperationContext,
    Project,
    Run,
    SampleObservation,
    StageExecution,
)
from contexta.contract.enums import SCHEMA_VERSION
from contexta.contract.extensions import ExtensionFieldSet, ExtensionRegistry
from contexta.contract.metric_values import metric_value_from_json
from contexta.contract.record_models import (
    CorrelationRefs,
    DegradedRecord,
    MetricRecord,
    RecordEnvelope,
    StructuredEventRecord,
    TraceSpanRecord,
)
from contexta.contract.record_payloads import (
    DegradedPayload,
    MetricPayload,
    StructuredEventPayload,
    TraceSpanPayload,
)
from contexta.contract.refs import StableRef
from contexta.errors import ContextaError, SerializationError, truncate_value

__all__ = [
    "deserialize_artifact_manifest",
    "deserialize_batch_execution",
    "deserialize_correlation_refs",
    "deserialize_degraded_payload",
    "deserialize_degraded_record",
    "deserialize_deployment_execution",
    "deserialize_environment_snapshot",
    "deserialize_extension_field_set",
    "deserialize_lineage_edge",
    "deserialize_metric_payload",
    "deserialize_metric_record",
    "deserialize_operation_context",
    "deserialize_project",
    "deserialize_provenance_record",
    "deserialize_record_envelope",
    "deserialize_run",
    "deserialize_sample_observation",
    "deserialize_stable_ref",
    "deserialize_stage_execution",
    "deserialize_structured_event_payload",
    "deserialize_structured_event_record",
    "deserialize_trace_span_payload",
    "deserialize_trace_span_record",
    "to_json",
    "to_payload",
]

_M = TypeVar("_M", bound=ContractModel)
_INVALID = "deserialize_invalid_payload"


def to_payload(obj: Any) -> Any:
    """JSON-safe nested structure of a model, ref, extension set, or containers of them."""
    if isinstance(obj, ContractModel):
        return obj._payload()
    if type(obj) is StableRef:
        return obj.text
    if isinstance(obj, FrozenMapping):
        return thaw(obj)
    if obj is None or type(obj) in (str, int, bool):
        return obj
    if type(obj) is float:
        if not math.isfinite(obj):
            _fail_serialize(obj, "finite numbers (non-finite values only inside models)")
        return obj
    if isinstance(obj, (list, tuple)):
        return [to_payload(item) for item in obj]
    if isinstance(obj, Mapping):
        result = {}
        for key, item in obj.items():
            if not isinstance(key, str):
                _fail_serialize(key, "str mapping keys")
            result[str(key)] = to_payload(item)
        return result
    _fail_serialize(obj, "contract models, refs, JSON values and lists/mappings of them")


def _fail_serialize(value: object, allowed: str) -> None:
    shown = truncate_value(value)
    message = f"cannot serialize value: got {shown}; allowed: {allowed}"
    raise SerializationError(
        message, code=_INVALID, details={"field": "obj", "value": shown, "allowed": allowed}
    )


def to_json(obj: Any) -> str:
    """Canonical JSON text: sorted keys, compact separators, UTF-8 text, no NaN tokens."""
    if isinstance(obj, ContractModel):
        return obj._json()
    payload = to_payload(obj)
    try:
        return encode_sorted(payload)
    except (ValueError, TypeError, RecursionError) as err:  # pragma: no cover - guarded above
        message = f"cannot serialize value: {err}"
        raise SerializationError(message, code=_INVALID, cause=err) from err


def _load(data: Any, what: str) -> Mapping[str, Any]:
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as err:
            _fail_read(what, what, data, "JSON text of an object", str(err), err)
    if not isinstance(data, Mapping):
        _fail_read(what, what, data, "a mapping or JSON object text", "not a mapping")
    mapping: Mapping[str, Any] = data
    return mapping


def _fail_read(
    what: str,
    field: str,
    value: object,
    allowed: str,
    reason: str,
    cause: BaseException | None = None,
    code: str = _INVALID,
) -> None:
    shown = truncate_value(value)
    message = f"cannot read {what}: invalid {field}: {reason}; got {shown}; allowed: {allowed}"
    raise SerializationError(
        message,
        code=code,
        details={"field": field, "value": shown, "allowed": allowed},
        cause=cause,
    )


_NESTED: dict[type, dict[str, type]] = {
    RecordEnvelope: {"correlation_refs": CorrelationRefs},
    StructuredEventRecord: {"envelope": RecordEnvelope, "payload": StructuredEventPayload},
    MetricRecord: {"envelope": RecordEnvelope, "payload": MetricPayload},
    TraceSpanRecord: {"envelope": RecordEnvelope, "payload": TraceSpanPayload},
    DegradedRecord: {"envelope": RecordEnvelope, "payload": DegradedPayload},
}


_DEFAULT_CORRELATION = CorrelationRefs()
_DEFAULT_CORRELATION_PAYLOAD = _DEFAULT_CORRELATION.to_dict()


def _build(cls: type[_M], data: Mapping[str, Any], path: str) -> _M:
    field_set: frozenset[str] = cls._field_set  # type: ignore[attr-defined]
    if not field_set.issuperset(data):
        _unknown(cls, data, path)
    # Keys from json.loads are not interned; Python matches keyword arguments to
    # parameters by identity first and falls back to string comparison for each pair, so
    # swapping in the interned field names makes the call several times cheaper.
    names: dict[str, str] = cls._field_map  # type: ignore[attr-defined]
    kwargs = {names[key]: value for key, value in data.items()}
    if kwargs.get("schema_version") == SCHEMA_VERSION:
        kwargs["schema_version"] = SCHEMA_VERSION  # the shared constant takes the fast path
    nested = _NESTED.get(cls)
    if nested is not None:
        for key, sub in nested.items():
            value = kwargs.get(key)
            if sub is CorrelationRefs and value == _DEFAULT_CORRELATION_PAYLOAD:
                kwargs[key] = _DEFAULT_CORRELATION
            elif type(value) is dict or isinstance(value, Mapping):
                kwargs[key] = _build(sub, value, f"{path}{key}.")
    if cls is MetricPayload and "value" in kwargs:
        kwargs["value"] = metric_value_from_json(kwargs["value"])
    extensions = kwargs.get("extensions")
    if type(extensions) is list:
        kwargs["extensions"] = (
            tuple(
                _build(ExtensionFieldSet, item, f"{path}extensions[{index}].")
                if isinstance(item, Mapping)
                else item
                for index, item in enumerate(extensions)
            )
            if extensions
            else ()
        )
    try:
        return cls(**kwargs)
    except ContextaError as err:
        details = err.details or {}
        field = details.get("field", "?")
        message = f"cannot read {cls.__name__}: invalid {path}{field}: {err.message}"
        raise SerializationError(
            message,
            code=_INVALID,
            details={
                "field": f"{path}{field}",
                "value": details.get("value"),
                "allowed": details.get("allowed", "see the contract"),
            },
            cause=err,
        ) from err
    except TypeError as err:  # missing required fields
        given = sorted(repr(key) for key in kwargs)
        what = cls.__name__
        _fail_read(what, path.rstrip(".") or what, given, "all required fields", str(err), err)
    raise AssertionError  # pragma: no cover


def _unknown(cls: type, data: Mapping[Any, Any], path: str) -> None:
    fields: tuple[str, ...] = cls._field_names  # type: ignore[attr-defined]
    unknown = [key for key in data if key not in fields]
    names = ", ".join(sorted(repr(key) for key in unknown))
    what = cls.__name__
    _fail_read(
        what,
        path.rstrip(".") or what,
        names,
        "fields " + ", ".join(fields),
        f"unknown field(s) {names}",
        code="deserialize_unknown_fields",
    )


def _read(cls: type[_M], data: object, registry: ExtensionRegistry | None) -> _M:
    result = _build(cls, _load(data, cls.__name__), "")
    if registry is not None:
        from contexta.contract.validation import validate_model

        report = validate_model(result, registry=registry)
        if not report.valid:
            issue = report.errors[0]
            _fail_read(cls.__name__, issue.path, issue.code, "registered namespaces", issue.message)
    return result


def deserialize_stable_ref(data: object, *, registry: ExtensionRegistry | None = None) -> StableRef:
    """A ref from ``"kind:value"`` text, its JSON string, or ``{"kind", "value"}``."""
    try:
        if isinstance(data, (bytes, bytearray)):
            data = data.decode("utf-8")
        if isinstance(data, str):
            if data.startswith(('"', "{")):
                data = json.loads(data)
            if isinstance(data, str):
                return StableRef.parse(data)
        if isinstance(data, Mapping):
            unknown = set(data) - {"kind", "value"}
            if unknown:
                _fail_read(
                    "StableRef", "ref", sorted(map(str, unknown)), "kind, value",
                    "unknown fields", code="deserialize_unknown_fields",
                )  # fmt: skip
            if set(data) == {"kind", "value"}:
                return StableRef(data["kind"], data["value"])
    except SerializationError:
        raise
    except (ContextaError, ValueError, RecursionError) as err:
        _fail_read("StableRef", "ref", data, "'kind:value' text", str(err), err)
    _fail_read("StableRef", "ref", data, "'kind:value' text or {kind, value}", "not a ref")
    raise AssertionError  # pragma: no cover


def deserialize_extension_field_set(
    data: object, *, registry: ExtensionRegistry | None = None
) -> ExtensionFieldSet:
    return _read(ExtensionFieldSet, data, registry)


def _reader(cls: type[_M]) -> Any:
    def read(data: object, *, registry: ExtensionRegistry | None = None) -> _M:
        return _read(cls, data, registry)

    read.__doc__ = f"Read a ``{cls.__name__}`` from a mapping or JSON text (strict)."
    return read


deserialize_correlation_refs = _reader(CorrelationRefs)
deserialize_project = _reader(Project)
deserialize_run = _reader(Run)
deserialize_deployment_execution = _reader(DeploymentExecution)
deserialize_stage_execution = _reader(StageExecution)
deserialize_batch_execution = _reader(BatchExecution)
deserialize_sample_observation = _reader(SampleObservation)
deserialize_operation_context = _reader(OperationContext)
deserialize_environment_snapshot = _reader(EnvironmentSnapshot)
deserialize_record_envelope = _reader(RecordEnvelope)
deserialize_structured_event_payload = _reader(StructuredEventPayload)
deserialize_structured_event_record = _reader(StructuredEventRecord)
deserialize_metric_payload = _reader(MetricPayload)
deserialize_metric_record = _reader(MetricRecord)
deserialize_trace_span_payload = _reader(TraceSpanPayload)
deserialize_trace_span_record = _reader(TraceSpanRecord)
deserialize_degraded_payload = _reader(DegradedPayload)
deserialize_degraded_record = _reader(DegradedRecord)
deserialize_artifact_manifest = _reader(ArtifactManifest)
deserialize_lineage_edge = _reader(LineageEdge)
deserialize_provenance_record = _reader(ProvenanceRecord)
