"""Capture results: what every capture call returns (contract §8.5).

The field order is the reference's, so positional construction keeps working.
``CaptureResult`` is built on every ``metric()`` call, so its post-init does
only cheap normalisation; the dispatcher and the writer build it correctly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Any

from contexta.errors import ContextaError, ValidationError, truncate_value

__all__ = [
    "BatchCaptureResult",
    "CaptureResult",
    "Delivery",
    "DeliveryStatus",
    "PayloadFamily",
    "ResultStatus",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class ResultStatus(StrEnum):
    """Outcome of one capture: stored, stored with a gap, or not stored."""

    SUCCESS = "SUCCESS"
    DEGRADED = "DEGRADED"
    FAILURE = "FAILURE"


class PayloadFamily(StrEnum):
    """Which kind of payload a capture carried; sinks subscribe by family."""

    CONTEXT = "CONTEXT"
    RECORD = "RECORD"
    ARTIFACT = "ARTIFACT"
    DEGRADATION = "DEGRADATION"


class DeliveryStatus(StrEnum):
    """Outcome of one delivery target (the workspace or an extra sink)."""

    SUCCESS = "SUCCESS"
    DEGRADED = "DEGRADED"
    FAILURE = "FAILURE"
    SKIPPED = "SKIPPED"


def _enum(cls: type[Enum], field: str, value: object) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls(value.upper())
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in cls)  # type: ignore[attr-defined]
    message = f"{field} must be one of {allowed}; got {truncate_value(value)}"
    raise ValidationError(
        message,
        code="validation_error",
        details={"field": field, "value": truncate_value(value), "allowed": allowed},
    )


def _freeze(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not values:
        return _EMPTY
    if isinstance(values, MappingProxyType):
        return values
    return MappingProxyType(dict(values))


@dataclass(frozen=True, slots=True)
class ResultMessage:
    """A message attached to a result (level ``INFO``/``WARNING``/``ERROR``)."""

    level: str
    code: str
    message: str
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class DegradationNote:
    """Why a result is ``DEGRADED``, machine-readable."""

    code: str
    message: str
    fidelity_loss: bool = True
    recoverable: bool = True
    affected_planes: tuple[str, ...] = ()
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class FailureInfo:
    """Summary of an error that was reported instead of raised."""

    code: str
    message: str
    retryable: bool = False
    error_type: str | None = None
    details: Mapping[str, Any] | None = None

    @classmethod
    def from_exception(cls, error: BaseException) -> FailureInfo:
        if isinstance(error, ContextaError):
            details = dict(error.details) if error.details is not None else None
            return cls(error.code, error.message, error.retryable, type(error).__name__, details)
        return cls("unexpected_error", str(error) or type(error).__name__, False,
                   type(error).__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of a captured payload: the workspace store or an extra sink."""

    sink_name: str
    family: PayloadFamily | str
    status: DeliveryStatus | str
    detail: str = ""
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if type(self.family) is not PayloadFamily:
            object.__setattr__(self, "family", _enum(PayloadFamily, "family", self.family))
        if type(self.status) is not DeliveryStatus:
            object.__setattr__(self, "status", _enum(DeliveryStatus, "status", self.status))
        object.__setattr__(self, "metadata", _freeze(self.metadata))

    def to_dict(self) -> dict[str, Any]:
        return {
            "sink_name": self.sink_name,
            "family": self.family.value,  # type: ignore[union-attr]
            "status": self.status.value,  # type: ignore[union-attr]
            "detail": self.detail,
            "metadata": dict(self.metadata or {}),
        }


def _plain(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _plain(to_dict())
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)  # no slots: stored_result() fills __dict__ in one step
class CaptureResult:
    """Outcome of one capture call; ``payload`` is the stored contract model."""

    status: ResultStatus | str
    value: Any = None
    messages: tuple[ResultMessage, ...] = ()
    degradation_notes: tuple[DegradationNote, ...] = ()
    failure: FailureInfo | None = None
    applied: bool = True
    planned_only: bool = False
    metadata: Mapping[str, Any] | None = None
    family: PayloadFamily | str = PayloadFamily.RECORD
    deliveries: tuple[Delivery, ...] = ()
    warnings: tuple[str, ...] = ()
    degradation_reasons: tuple[str, ...] = ()
    payload: Any = None
    degradation_emitted: bool = False
    degradation_payload: Any = None
    recovered_to_outbox: bool = False
    replay_refs: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None

    def __post_init__(self) -> None:
        if type(self.status) is not ResultStatus:
            object.__setattr__(self, "status", _enum(ResultStatus, "status", self.status))
        if type(self.family) is not PayloadFamily:
            object.__setattr__(self, "family", _enum(PayloadFamily, "family", self.family))
        if type(self.metadata) is not MappingProxyType:
            object.__setattr__(self, "metadata", _freeze(self.metadata))
        if self.payload is None and self.value is not None:
            object.__setattr__(self, "payload", self.value)
        elif self.value is None and self.payload is not None:
            object.__setattr__(self, "value", self.payload)
        if self.status is ResultStatus.DEGRADED and not self.degradation_notes:
            notes = tuple(
                DegradationNote(code=reason.split(":", 1)[0], message=reason,
                                affected_planes=("capture",))
                for reason in self.degradation_reasons
            ) or (DegradationNote("capture_degraded", "capture completed with a gap"),)
            object.__setattr__(self, "degradation_notes", notes)
        if self.failure is not None:
            if self.error_code is None:
                object.__setattr__(self, "error_code", self.failure.code)
            if self.error_message is None:
                object.__setattr__(self, "error_message", self.failure.message)

    @property
    def succeeded(self) -> bool:
        """True when the store and every sink took the payload."""
        return self.status is ResultStatus.SUCCESS

    @property
    def degraded(self) -> bool:
        """True when the payload was kept but something was lost or deferred."""
        return self.status is ResultStatus.DEGRADED

    @property
    def failed(self) -> bool:
        return self.status is ResultStatus.FAILURE

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping (payload via the model's ``to_dict``)."""
        return {
            "status": self.status.value,  # type: ignore[union-attr]
            "family": self.family.value,  # type: ignore[union-attr]
            "deliveries": [delivery.to_dict() for delivery in self.deliveries],
            "warnings": list(self.warnings),
            "degradation_reasons": list(self.degradation_reasons),
            "payload": _plain(self.payload),
            "degradation_emitted": self.degradation_emitted,
            "degradation_payload": _plain(self.degradation_payload),
            "recovered_to_outbox": self.recovered_to_outbox,
            "replay_refs": list(self.replay_refs),
            "error_code": self.error_code,
            "error_message": self.error_message,
            "applied": self.applied,
            "planned_only": self.planned_only,
            "metadata": _plain(self.metadata or {}),
        }


def _batch_status(results: Sequence[CaptureResult]) -> ResultStatus:
    if not results or all(item.succeeded for item in results):
        return ResultStatus.SUCCESS
    if all(item.failed for item in results):
        return ResultStatus.FAILURE
    return ResultStatus.DEGRADED


@dataclass(frozen=True, slots=True)
class BatchCaptureResult:
    """Outcome of one ``emit_*`` call: one :class:`CaptureResult` per item, in order."""

    status: ResultStatus | str
    value: Any = None
    messages: tuple[ResultMessage, ...] = ()
    degradation_notes: tuple[DegradationNote, ...] = ()
    failure: FailureInfo | None = None
    applied: bool = True
    planned_only: bool = False
    metadata: Mapping[str, Any] | None = None
    items: tuple[CaptureResult, ...] = ()
    family: PayloadFamily | str = PayloadFamily.RECORD

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _enum(ResultStatus, "status", self.status))
        object.__setattr__(self, "family", _enum(PayloadFamily, "family", self.family))
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "metadata", _freeze(self.metadata))

    @classmethod
    def from_results(
        cls, family: PayloadFamily | str, results: Sequence[CaptureResult]
    ) -> BatchCaptureResult:
        """Aggregate item results: all success → SUCCESS, all failure → FAILURE."""
        items = tuple(results)
        notes = tuple(note for item in items for note in item.degradation_notes)
        failure = next((item.failure for item in items if item.failure is not None), None)
        return cls(status=_batch_status(items), items=items, family=family,
                   degradation_notes=notes, failure=failure)

    @property
    def results(self) -> tuple[CaptureResult, ...]:
        return self.items

    @property
    def total_count(self) -> int:
        return len(self.items)

    @property
    def success_count(self) -> int:
        return sum(item.succeeded for item in self.items)

    @property
    def degraded_count(self) -> int:
        return sum(item.degraded for item in self.items)

    @property
    def failure_count(self) -> int:
        return sum(item.failed for item in self.items)

    @property
    def succeeded(self) -> bool:
        return self.status is ResultStatus.SUCCESS

    @property
    def degraded(self) -> bool:
        return self.status is ResultStatus.DEGRADED

    @property
    def failed(self) -> bool:
        return self.status is ResultStatus.FAILURE

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,  # type: ignore[union-attr]
            "family": self.family.value,  # type: ignore[union-attr]
            "total_count": self.total_count,
            "success_count": self.success_count,
            "degraded_count": self.degraded_count,
            "failure_count": self.failure_count,
            "results": [item.to_dict() for item in self.items],
        }


_TEMPLATE: dict[str, Any] = {
    name: field.default for name, field in CaptureResult.__dataclass_fields__.items()
}
_TEMPLATE["metadata"] = _EMPTY
_TEMPLATE["status"] = ResultStatus.SUCCESS


def stored_result(payload: Any, family: PayloadFamily,
                  deliveries: tuple[Delivery, ...]) -> CaptureResult:
    """The ``SUCCESS`` result of a stored payload, equal to the normal constructor's.

    ``metric()`` returns one per call; building it from a template dict skips
    the generic checks of ``__post_init__`` (nothing here needs normalising)
    and costs a fifth of the generated ``__init__``.
    """
    result = object.__new__(CaptureResult)
    object.__setattr__(result, "__dict__", {**_TEMPLATE, "value": payload, "payload": payload,
                                            "family": family, "deliveries": deliveries})
    return result
