"""Result models shared by the recovery operations (contract §11).

``status`` is a plain upper-case string (``SUCCESS``, ``DEGRADED``,
``FAILURE``), as in the reference, so recovery stays below capture in the
layer order and needs none of capture's enums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["RecoveryResult", "ReplayBatchResult", "ReplayEntryResult"]


def _freeze(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class RecoveryResult:
    """Base of every recovery result: ``status`` is ``SUCCESS``, ``DEGRADED`` or ``FAILURE``."""

    status: str
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    details: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", str(self.status).upper())
        object.__setattr__(self, "warnings", tuple(str(item) for item in self.warnings))
        object.__setattr__(self, "notes", tuple(str(item) for item in self.notes))
        object.__setattr__(self, "details", _freeze(self.details))

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "warnings": list(self.warnings),
                "notes": list(self.notes), "details": dict(self.details or {})}


@dataclass(frozen=True, slots=True)
class ReplayEntryResult:
    """Outcome of one outbox entry: ``SUCCESS``, ``FAILURE`` or ``DEAD_LETTERED``."""

    replay_ref: str
    family: str
    target: str
    status: str
    detail: str = ""
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"replay_ref": self.replay_ref, "family": self.family, "target": self.target,
                "status": self.status, "detail": self.detail, "attempts": self.attempts}


@dataclass(frozen=True, slots=True)
class ReplayBatchResult(RecoveryResult):
    """Outcome of :func:`replay_outbox`."""

    entries: tuple[ReplayEntryResult, ...] = ()
    acknowledged_count: int = 0
    pending_count: int = 0
    dead_lettered_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = RecoveryResult.to_dict(self)
        data.update({"entries": [entry.to_dict() for entry in self.entries],
                     "acknowledged_count": self.acknowledged_count,
                     "pending_count": self.pending_count,
                     "dead_lettered_count": self.dead_lettered_count})
        return data
