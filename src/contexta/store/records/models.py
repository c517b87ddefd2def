"""Value objects of the record plane (contract.md §4.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "AppendReceipt",
    "AppendRejection",
    "AppendResult",
    "DurabilityMode",
    "DurabilityStatus",
    "IntegrityIssue",
    "IntegrityReport",
    "IntegrityState",
    "KnownGap",
    "LayoutMode",
    "RepairReport",
    "ReplayMode",
    "ReplayResult",
    "ScanFilter",
    "StoredRecord",
]


class DurabilityMode(StrEnum):
    FLUSH = "flush"
    FSYNC = "fsync"


class LayoutMode(StrEnum):
    JSONL_SEGMENTS = "jsonl_segments"


class DurabilityStatus(StrEnum):
    ACCEPTED = "accepted"
    FLUSHED = "flushed"
    FSYNCED = "fsynced"


class ReplayMode(StrEnum):
    STRICT = "strict"
    TOLERANT = "tolerant"


class IntegrityState(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    CORRUPTED = "corrupted"


@dataclass(frozen=True, slots=True)
class AppendReceipt:
    sequence: int
    segment_id: int
    offset: int
    record_ref: str
    record_type: str
    run_ref: str
    durability_status: DurabilityStatus = DurabilityStatus.ACCEPTED
    deduplicated: bool = False


@dataclass(frozen=True, slots=True)
class AppendRejection:
    """Kept for shape; every rejection now raises instead (contract.md §4.4)."""

    index: int
    code: str
    message: str
    record_ref: str | None = None
    record_type: str | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    accepted: tuple[AppendReceipt, ...]
    rejected: tuple[AppendRejection, ...] = ()
    durability_status: DurabilityStatus = DurabilityStatus.ACCEPTED
    durable_count: int = 0

    @property
    def accepted_count(self) -> int:
        return len(self.accepted)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    @property
    def success(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class ScanFilter:
    """Equality filters on envelope refs; inclusive ``recorded_at`` bounds as instants."""

    run_ref: Any = None
    stage_execution_ref: Any = None
    batch_execution_ref: Any = None
    sample_observation_ref: Any = None
    record_type: str | None = None
    start_time: Any = None
    end_time: Any = None


@dataclass(frozen=True, slots=True)
class StoredRecord:
    sequence: int
    segment_id: int
    offset: int
    appended_at: str
    record: Any

    @property
    def record_ref(self) -> str:
        return str(self.record.envelope.record_ref)

    @property
    def record_type(self) -> str:
        return str(self.record.envelope.record_type)

    @property
    def run_ref(self) -> str:
        return str(self.record.envelope.run_ref)

    @property
    def stage_execution_ref(self) -> str | None:
        ref = self.record.envelope.stage_execution_ref
        return None if ref is None else str(ref)

    @property
    def batch_execution_ref(self) -> str | None:
        ref = self.record.envelope.batch_execution_ref
        return None if ref is None else str(ref)

    @property
    def sample_observation_ref(self) -> str | None:
        ref = self.record.envelope.sample_observation_ref
        return None if ref is None else str(ref)


@dataclass(frozen=True, slots=True)
class KnownGap:
    code: str
    message: str
    segment_id: int
    line_number: int | None = None
    start_sequence: int | None = None
    end_sequence: int | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ReplayResult:
    records: tuple[StoredRecord, ...]
    record_count: int
    mode: ReplayMode
    warnings: tuple[str, ...] = ()
    known_gaps: tuple[KnownGap, ...] = ()
    integrity_state: IntegrityState = IntegrityState.HEALTHY


@dataclass(frozen=True, slots=True)
class IntegrityIssue:
    severity: str
    code: str
    message: str
    segment_id: int | None = None
    line_number: int | None = None


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    healthy: bool
    issues: tuple[IntegrityIssue, ...]
    segment_count: int
    record_count: int
    state: IntegrityState
    recommendations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RepairReport:
    success: bool
    repaired_segments: tuple[int, ...] = ()
    quarantined_paths: tuple[str, ...] = ()
    rebuilt_indexes: tuple[str, ...] = ()
    integrity_state: IntegrityState = IntegrityState.HEALTHY
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
