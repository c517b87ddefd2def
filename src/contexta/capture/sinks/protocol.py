"""The sink protocol and the request/receipt shapes sinks exchange (contract §8.6)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from contexta.capture.results import DeliveryStatus, PayloadFamily, _enum, _plain
from contexta.errors import DispatchError, ValidationError, truncate_value

__all__ = [
    "BaseSink",
    "Sink",
    "SinkCaptureReceipt",
    "SinkCaptureRequest",
    "extract_payload_ref",
    "payload_json",
]

_REF_ATTRIBUTES = (
    "artifact_ref",
    "relation_ref",
    "environment_snapshot_ref",
    "operation_context_ref",
    "sample_observation_ref",
    "batch_execution_ref",
    "stage_execution_ref",
    "deployment_execution_ref",
    "run_ref",
    "project_ref",
)


def extract_payload_ref(payload: object) -> str | None:
    """Best-effort identity of a payload: record ref, else its own ref field."""
    envelope = getattr(payload, "envelope", None)
    if envelope is not None:
        ref = getattr(envelope, "record_ref", None)
        if ref is not None:
            return str(ref)
    for attribute in _REF_ATTRIBUTES:
        ref = getattr(payload, attribute, None)
        if ref is not None:
            return str(ref)
    return None


def payload_json(payload: object, *, indent: int | None = None) -> str:
    """Canonical JSON of a contract model (``to_json``), or of any plain value."""
    if indent is None and hasattr(payload, "to_dict"):
        try:
            from contexta.contract import to_json

            return str(to_json(payload))
        except (ImportError, TypeError, ValueError):
            pass
    return json.dumps(_plain(payload), sort_keys=True, ensure_ascii=False, indent=indent,
                      separators=None if indent else (",", ":"), default=str)


def _text(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        message = f"{field} must be a non-blank string; got {truncate_value(value)}"
        raise ValidationError(message, details={"field": field, "value": truncate_value(value)})
    return value


def _freeze(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class SinkCaptureRequest:
    """One payload handed to a sink, with its family, type name and ref."""

    family: PayloadFamily | str
    payload: object
    payload_type: str | None = None
    payload_ref: str | None = None
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "family", _enum(PayloadFamily, "family", self.family))
        object.__setattr__(self, "payload_type",
                           _text("payload_type", self.payload_type or type(self.payload).__name__))
        ref = self.payload_ref if self.payload_ref is not None else extract_payload_ref(
            self.payload)
        if ref is not None:
            ref = _text("payload_ref", ref)
        object.__setattr__(self, "payload_ref", ref)
        object.__setattr__(self, "metadata", _freeze(self.metadata))

    @property
    def serialized_payload(self) -> Any:
        """JSON-ready form of the payload."""
        return json.loads(payload_json(self.payload))

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family.value,  # type: ignore[union-attr]
            "payload_type": self.payload_type,
            "payload_ref": self.payload_ref,
            "metadata": dict(self.metadata or {}),
            "payload": self.serialized_payload,
        }


@dataclass(frozen=True, slots=True)
class SinkCaptureReceipt:
    """What a sink reports for one payload (``SUCCESS`` or ``DEGRADED``)."""

    status: DeliveryStatus | str = DeliveryStatus.SUCCESS
    detail: str = ""
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        status = _enum(DeliveryStatus, "status", self.status)
        if status is DeliveryStatus.SKIPPED:
            message = "SinkCaptureReceipt.status must not be SKIPPED; skipping is the dispatcher's"
            raise ValidationError(message, details={"field": "status", "value": "SKIPPED"})
        object.__setattr__(self, "status", status)
        if not isinstance(self.detail, str):
            message = f"detail must be a string; got {truncate_value(self.detail)}"
            raise ValidationError(message, details={"field": "detail"})
        object.__setattr__(self, "metadata", _freeze(self.metadata))

    @classmethod
    def success(cls, *, detail: str = "",
                metadata: Mapping[str, Any] | None = None) -> SinkCaptureReceipt:
        return cls(DeliveryStatus.SUCCESS, detail, metadata)

    @classmethod
    def degraded(cls, *, detail: str,
                 metadata: Mapping[str, Any] | None = None) -> SinkCaptureReceipt:
        return cls(DeliveryStatus.DEGRADED, detail, metadata)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value,  # type: ignore[union-attr]
                "detail": self.detail, "metadata": dict(self.metadata or {})}


@runtime_checkable
class Sink(Protocol):
    """An extra delivery target for captured payloads (the stores are always written)."""

    name: str
    supported_families: tuple[PayloadFamily, ...]

    def supports(self, family: PayloadFamily | str) -> bool: ...

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt: ...


class BaseSink:
    """Name and family filtering shared by the built-in sinks."""

    def __init__(
        self,
        *,
        name: str,
        supported_families: tuple[PayloadFamily | str, ...] | None = None,
    ) -> None:
        self.name = _text("name", name)
        families = supported_families if supported_families else tuple(PayloadFamily)
        self.supported_families: tuple[PayloadFamily, ...] = tuple(
            _enum(PayloadFamily, "supported_families", item) for item in families
        )

    def supports(self, family: PayloadFamily | str) -> bool:
        return _enum(PayloadFamily, "family", family) in self.supported_families

    def make_request(
        self,
        *,
        family: PayloadFamily | str,
        payload: object,
        metadata: Mapping[str, Any] | None = None,
    ) -> SinkCaptureRequest:
        """Build the request, refusing families this sink does not take."""
        normalized = _enum(PayloadFamily, "family", family)
        if normalized not in self.supported_families:
            message = f"sink {self.name!r} does not take family {normalized.value}"
            raise DispatchError(message, code="capture_dispatch_failed",
                                details={"sink_name": self.name, "family": normalized.value})
        return SinkCaptureRequest(family=normalized, payload=payload, metadata=metadata)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
