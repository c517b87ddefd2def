"""Emission items for the batch capture calls (``emit_metrics`` and friends, contract §8.4).

An emission is only the user's intent; the contract models built from it do
the validation, and a batch call validates every item before storing any.
Items may also be plain mappings with the same field names.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from contexta.errors import ValidationError, truncate_value

__all__ = [
    "ArtifactRegistrationEmission",
    "EventEmission",
    "MetricEmission",
    "SpanEmission",
]


@dataclass(frozen=True, slots=True)
class EventEmission:
    """A structured event; ``tags`` are stored under ``attributes["tags"]``."""

    key: str
    message: str
    level: str = "info"
    attributes: Mapping[str, Any] | None = None
    tags: Mapping[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class MetricEmission:
    """A metric value; ``step`` (new) is the training or batch step it belongs to."""

    key: str
    value: int | float
    unit: str | None = None
    aggregation_scope: str = "step"
    tags: Mapping[str, str] | None = None
    summary_basis: str = "raw_observation"
    step: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class SpanEmission:
    """A timed span; missing times default to now."""

    name: str
    started_at: Any = None
    ended_at: Any = None
    status: str = "ok"
    span_kind: str = "operation"
    attributes: Mapping[str, Any] | None = None
    linked_refs: Sequence[Any] | None = None
    parent_span_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class ArtifactRegistrationEmission:
    """A file to ingest into the artifact store; ``compute_hash`` has no effect (always hashed)."""

    artifact_kind: str
    path: str | os.PathLike[str]
    artifact_ref: Any = None
    attributes: Mapping[str, Any] | None = None
    compute_hash: bool = True
    allow_missing: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["path"] = os.fspath(self.path)
        data["artifact_ref"] = None if self.artifact_ref is None else str(self.artifact_ref)
        return data


_E = TypeVar("_E", EventEmission, MetricEmission, SpanEmission, ArtifactRegistrationEmission)


def coerce_items(items: object, cls: type[_E], field: str = "items") -> list[_E]:
    """Turn emission objects or mappings into emissions; bad items raise ``ValidationError``."""
    if not isinstance(items, str | bytes | Mapping) and not isinstance(items, Sequence):
        try:
            items = list(items)  # type: ignore[call-overload]
        except TypeError:
            pass
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Sequence):
        message = (f"{field} must be a sequence of {cls.__name__} or mappings; "
                   f"got {truncate_value(items)}")
        raise ValidationError(message, details={"field": field, "value": truncate_value(items)})
    names = {item.name for item in dataclasses.fields(cls)}
    result: list[_E] = []
    for index, item in enumerate(items):  # type: ignore[arg-type]
        if isinstance(item, cls):
            result.append(item)
            continue
        if not isinstance(item, Mapping):
            message = (f"{field}[{index}] must be a {cls.__name__} or a mapping; "
                       f"got {truncate_value(item)}")
            raise ValidationError(message, details={"field": f"{field}[{index}]",
                                                    "value": truncate_value(item)})
        unknown = sorted(str(key) for key in item if key not in names)
        if unknown:
            message = (f"{field}[{index}] has unknown fields {unknown}; "
                       f"allowed: {sorted(names)}")
            raise ValidationError(message, details={"field": f"{field}[{index}]",
                                                    "value": unknown,
                                                    "allowed": sorted(names)})
        try:
            result.append(cls(**item))
        except TypeError as exc:
            message = f"{field}[{index}] is missing required fields: {exc}"
            raise ValidationError(message, details={"field": f"{field}[{index}]"}) from exc
    return result
