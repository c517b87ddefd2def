"""Building contract records from capture calls (contract §8.4).

A :class:`RecordFactory` is made once per scope with the scope's refs already
parsed, so a ``metric()`` call builds exactly three models and nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contexta.capture._bodies import BodyTemplate
from contexta.capture._clock import RecordIds, new_hex, utc_now_text
from contexta.contract import (
    DegradedPayload,
    DegradedRecord,
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    StableRef,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
    to_json,
)
from contexta.contract.record_models import CorrelationRefs
from contexta.contract.refs import _make as make_ref
from contexta.errors import ValidationError, truncate_value

__all__ = [
    "ActiveContext",
    "RecordFactory",
    "coerce_metric_value",
    "invalid_metric_value_error",
    "metric_value_problem",
    "metric_value_text",
    "trace_id_for",
]

_NO_CORRELATION = CorrelationRefs()
_BODIES_BEFORE_TEMPLATE = 8
_trusted_envelope = RecordEnvelope._trusted  # type: ignore[attr-defined]
# A record wrapper only checks that its envelope's type matches the payload: true here.
_trusted_metric = MetricRecord._trusted  # type: ignore[attr-defined]
_trusted_event = StructuredEventRecord._trusted  # type: ignore[attr-defined]
# Capture infers value_type "int" for integers: the contract's signed 64-bit range.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_VALUE_TEXT_CHARS = 4096
_MESSAGE_VALUE_CHARS = 200  # values in error messages and details (§3.1)
_VALUE_TEXT_BITS = 4000  # about 1200 decimal digits: well inside Python's str(int) limit
_ALLOWED_VALUES = f"int in {_INT_MIN}..{_INT_MAX} or float (NaN and ±inf allowed)"


@dataclass(frozen=True, slots=True)
class ActiveContext:
    """The refs a scope stamps on everything it captures (reference name kept)."""

    project_ref: StableRef
    run_ref: StableRef | None = None
    deployment_execution_ref: StableRef | None = None
    stage_execution_ref: StableRef | None = None
    batch_execution_ref: StableRef | None = None
    sample_observation_ref: StableRef | None = None
    operation_context_ref: StableRef | None = None

    @property
    def scope_kind(self) -> str:
        """Kind of the innermost scope these refs describe."""
        for kind, ref in (("operation", self.operation_context_ref),
                          ("sample", self.sample_observation_ref),
                          ("batch", self.batch_execution_ref),
                          ("stage", self.stage_execution_ref),
                          ("deployment", self.deployment_execution_ref),
                          ("run", self.run_ref)):
            if ref is not None:
                return kind
        return "project"

    @property
    def ref(self) -> str:
        """Full text of the innermost ref."""
        for ref in (self.operation_context_ref, self.sample_observation_ref,
                    self.batch_execution_ref, self.stage_execution_ref,
                    self.deployment_execution_ref, self.run_ref):
            if ref is not None:
                return str(ref)
        return str(self.project_ref)


def trace_id_for(run_ref: object) -> str:
    """One trace id per run, derived from its ref (contract §8.4)."""
    return hashlib.sha256(str(run_ref).encode("ascii")).hexdigest()[:32]


def coerce_metric_value(value: object) -> tuple[int | float, str] | None:
    """``(value, value_type)`` for a storable number, ``None`` when it cannot be stored.

    ``bool`` is rejected outright (contract §3.7); numpy scalars become plain
    ``int``/``float``. An integer outside the signed 64-bit range of the inferred
    ``"int"`` type gives ``None``, like a non-numeric value, so capture can leave a
    degraded marker instead of failing inside the model (§3.7 "Integer value_type").
    """
    kind = type(value)
    if kind is float:
        return value, "float"  # type: ignore[return-value]
    if kind is int:
        return (value, "int") if _INT_MIN <= value <= _INT_MAX else None  # type: ignore[operator]
    if kind is bool or (kind.__name__ in ("bool_", "bool") and hasattr(value, "dtype")):
        message = f"metric value must be an int or float, not bool; got {value!r}"
        raise ValidationError(message, code="record_invalid_metric_value",
                              details={"field": "value", "value": repr(value),
                                       "allowed": "int or float (NaN and ±inf allowed)"})
    if _is_time_like(value):
        return None  # numpy timedelta64 claims to be an integer; a duration has no unit here
    try:
        if isinstance(value, numbers.Integral):
            number = int(value)
            return (number, "int") if _INT_MIN <= number <= _INT_MAX else None
        if isinstance(value, numbers.Real):
            return float(value), "float"
    except (TypeError, ValueError, ArithmeticError):
        return None  # a third-party number that will not convert: marker, not a leak
    return None


def _is_time_like(value: object) -> bool:
    """numpy ``timedelta64``/``datetime64``: ``timedelta64`` subclasses ``signedinteger``.

    Checked by dtype kind so capture need not import numpy.
    """
    return getattr(getattr(value, "dtype", None), "kind", None) in ("m", "M")


def _is_integer(value: object) -> bool:
    """An integer (bool aside): refused by ``coerce_metric_value`` only for its size."""
    return (isinstance(value, numbers.Integral) and not isinstance(value, bool)
            and not _is_time_like(value))


def metric_value_problem(value: object) -> str:
    """Why ``value`` cannot be stored, in words for markers and error messages."""
    if _is_integer(value):
        return "an integer outside the signed 64-bit range"
    return f"a non-numeric {type(value).__name__} value"


def metric_value_text(value: object) -> str:
    """The refused value as text for a marker: exact digits for integers, else its repr."""
    if _is_integer(value):
        with contextlib.suppress(TypeError, ValueError, ArithmeticError):
            return _integer_text(int(value))  # type: ignore[call-overload]
    return truncate_value(value, _VALUE_TEXT_CHARS)


def _integer_text(number: int) -> str:
    """Decimal digits; past the marker size (or Python's int-to-str limit) just the size."""
    if number.bit_length() <= _VALUE_TEXT_BITS:
        return str(number)
    return f"{'negative ' if number < 0 else ''}integer of {number.bit_length()} bits"


def invalid_metric_value_error(key: str, value: object) -> ValidationError:
    """The strict-mode error: names the metric, the value and what is allowed."""
    shown = metric_value_text(value)
    if len(shown) > _MESSAGE_VALUE_CHARS:
        shown = shown[:_MESSAGE_VALUE_CHARS - 3] + "..."
    message = (f"metric {key!r} received {metric_value_problem(value)}: {shown}; "
               f"allowed: {_ALLOWED_VALUES}")
    return ValidationError(message, code="record_invalid_metric_value",
                           details={"field": "value", "metric": key, "value": shown,
                                    "allowed": _ALLOWED_VALUES})


class RecordFactory:
    """Builds records stamped with one scope's refs."""

    __slots__ = (
        "_bodies",
        "_body_count",
        "_trusted",
        "context",
        "ids",
        "producer_ref",
        "run_components",
        "run_value",
        "trace_id",
    )

    def __init__(self, context: ActiveContext, producer_ref: str, ids: RecordIds) -> None:
        self.context = context
        self.producer_ref = producer_ref
        self.ids = ids
        run_ref = context.run_ref
        self.run_value = run_ref.value if run_ref is not None else ""
        self.run_components = run_ref.components if run_ref is not None else ()
        self.trace_id = trace_id_for(run_ref)
        self._trusted = False
        self._bodies: BodyTemplate | None = None
        self._body_count = 0

    def _checked_envelope(self, record_type: str, now: str, degradation_marker: str,
                          observed_at: str | None) -> RecordEnvelope:
        context = self.context
        return RecordEnvelope(
            record_ref=f"record:{self.run_value}.{record_type}-{self.ids.next()}",
            record_type=record_type,
            recorded_at=now,
            observed_at=observed_at or now,
            producer_ref=self.producer_ref,
            run_ref=context.run_ref,
            deployment_execution_ref=context.deployment_execution_ref,
            stage_execution_ref=context.stage_execution_ref,
            batch_execution_ref=context.batch_execution_ref,
            sample_observation_ref=context.sample_observation_ref,
            operation_context_ref=context.operation_context_ref,
            degradation_marker=degradation_marker,
        )

    def envelope(self, record_type: str, now: str, *, degradation_marker: str = "none",
                 observed_at: str | None = None) -> RecordEnvelope:
        """The envelope of a new record of this scope.

        The first envelope is fully validated (scope refs, producer ref); after that only
        the record id and the clock change, both made here in canonical form, so later
        envelopes skip the checks: they are a third of a ``metric()`` call otherwise.
        """
        if not self._trusted or observed_at is not None:
            envelope = self._checked_envelope(record_type, now, degradation_marker, observed_at)
            self._trusted = True
            return envelope
        context = self.context
        ident = f"{record_type}-{self.ids.next()}"
        value = f"{self.run_value}.{ident}"
        record_ref = make_ref("record", value, "record:" + value, (*self.run_components, ident))
        return _trusted_envelope(
            record_ref, record_type, now, now, self.producer_ref, context.run_ref,
            context.deployment_execution_ref, context.stage_execution_ref,
            context.batch_execution_ref, context.sample_observation_ref,
            context.operation_context_ref, _NO_CORRELATION, "complete", degradation_marker,
        )

    def metric(self, key: str, value: int | float, value_type: str, *, step: int | None,
               unit: str | None, aggregation_scope: str, tags: Mapping[str, str] | None,
               summary_basis: str | None, now: str | None = None) -> MetricRecord:
        """A metric record; ``now`` lets one batch call stamp all its items alike."""
        payload = MetricPayload(metric_key=key, value=value, value_type=value_type, unit=unit,
                                aggregation_scope=aggregation_scope, tags=tags,
                                summary_basis=summary_basis, step=step)
        return _trusted_metric(self.envelope("metric", now or utc_now_text()), payload)

    def metric_body(self, record: MetricRecord) -> str:
        """``to_json(record)`` of a metric record from this factory, built from pieces
        once the scope has made a few (cutting the pieces costs about five bodies)."""
        bodies = self._bodies
        if bodies is None:
            self._body_count += 1
            if self._body_count <= _BODIES_BEFORE_TEMPLATE:
                return to_json(record)
            bodies = self._bodies = BodyTemplate(record.envelope)
        return bodies.body(record)

    def event(self, key: str, message: str, level: str,
              attributes: Mapping[str, Any] | None) -> StructuredEventRecord:
        payload = StructuredEventPayload(event_key=key, level=level, message=message,
                                         attributes=attributes)
        return _trusted_event(self.envelope("event", utc_now_text()), payload)

    def span(self, name: str, *, started_at: Any, ended_at: Any, status: str, span_kind: str,
             attributes: Mapping[str, Any] | None, linked_refs: Sequence[Any] | None,
             parent_span_id: str | None, span_id: str | None = None) -> TraceSpanRecord:
        now = utc_now_text()
        payload = TraceSpanPayload(
            span_id=span_id or new_hex(16), trace_id=self.trace_id,
            parent_span_id=parent_span_id, span_name=name,
            started_at=now if started_at is None else started_at,
            ended_at=now if ended_at is None else ended_at,
            status=status, span_kind=span_kind, attributes=attributes,
            linked_refs=tuple(linked_refs or ()),
        )
        return TraceSpanRecord(envelope=self.envelope("span", now), payload=payload)

    def degraded(self, issue_key: str, category: str, severity: str, summary: str, *,
                 attributes: Mapping[str, Any] | None = None, subject_ref: Any = None,
                 degradation_marker: str = "partial_failure",
                 origin_marker: str = "explicit_capture") -> DegradedRecord:
        payload = DegradedPayload(issue_key=issue_key, category=category, severity=severity,
                                  summary=summary, subject_ref=subject_ref,
                                  origin_marker=origin_marker, attributes=attributes)
        envelope = self.envelope("degraded", utc_now_text(),
                                 degradation_marker=degradation_marker)
        return DegradedRecord(envelope=envelope, payload=payload)
