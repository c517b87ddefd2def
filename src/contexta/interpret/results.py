"""Result models of the interpretation services (contract §6.2, §6.3, §6.6 to §6.8).

Frozen, slotted dataclasses with the contract's field order, so positional construction works.
Sequences are tuples and mappings are read-only ``FrozenMap``s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contexta.interpret.frozen_map import EMPTY_MAP, FrozenMap, freeze_mapping
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
)

__all__ = [
    "SEVERITY_RANK",
    "AnomalyResult",
    "ArtifactSizePoint",
    "ArtifactSizeTrend",
    "CompletenessNote",
    "DiagnosticsIssue",
    "DiagnosticsResult",
    "DurationTrend",
    "EnvironmentDiff",
    "EnvironmentValueChange",
    "EvidenceLink",
    "MetricBaseline",
    "MetricTrend",
    "ReproducibilityAudit",
    "RunSnapshot",
    "StageDurationPoint",
    "StepPoint",
    "StepSeries",
    "TrendPoint",
]

SEVERITY_RANK: Mapping[str, int] = FrozenMap({"info": 0, "warning": 1, "error": 2})


def _frozen(obj: object, name: str) -> None:
    value = getattr(obj, name)
    if type(value) is not FrozenMap and value is not None:
        object.__setattr__(obj, name, freeze_mapping(value))


@dataclass(frozen=True, slots=True)
class EvidenceLink:
    """Pointer from a result to the stored object that supports it."""

    kind: str
    ref: str
    label: str


@dataclass(frozen=True, slots=True)
class CompletenessNote:
    """Something a result could not see or had to assume; ``summary`` is code-like."""

    severity: str
    summary: str
    details: Mapping[str, Any] | None = None
    evidence_links: tuple[EvidenceLink, ...] = ()

    def __post_init__(self) -> None:
        _frozen(self, "details")


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    run: RunRecord
    deployments: tuple[DeploymentRecord, ...] = ()
    stages: tuple[StageRecord, ...] = ()
    batches: tuple[BatchRecord, ...] = ()
    samples: tuple[SampleRecord, ...] = ()
    artifacts: tuple[ArtifactRecord, ...] = ()
    relations: tuple[RelationRecord, ...] = ()
    records: tuple[ObservationRecord, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()
    completeness_notes: tuple[str, ...] = ()
    provenance: ProvenanceView | None = None


@dataclass(frozen=True, slots=True)
class DiagnosticsIssue:
    severity: str
    code: str
    summary: str
    details: Mapping[str, Any] = field(default_factory=lambda: EMPTY_MAP)
    subject_ref: str | None = None
    evidence_links: tuple[EvidenceLink, ...] = ()

    def __post_init__(self) -> None:
        _frozen(self, "details")


@dataclass(frozen=True, slots=True)
class DiagnosticsResult:
    run_id: str
    issues: tuple[DiagnosticsIssue, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()

    @property
    def highest_severity(self) -> str | None:
        """The most severe issue level (``error`` > ``warning`` > ``info``), or ``None``."""
        best: str | None = None
        for issue in self.issues:
            if best is None or SEVERITY_RANK.get(issue.severity, -1) > SEVERITY_RANK[best]:
                best = issue.severity
        return best


@dataclass(frozen=True, slots=True)
class TrendPoint:
    run_id: str
    run_name: str
    value: int | float
    captured_at: str | None = None
    stage_name: str | None = None


@dataclass(frozen=True, slots=True)
class MetricTrend:
    metric_key: str
    project_name: str | None
    points: tuple[TrendPoint, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()

    @property
    def values(self) -> tuple[int | float, ...]:
        return tuple(point.value for point in self.points)


@dataclass(frozen=True, slots=True)
class StepPoint:
    step: int
    value: float
    observed_at: str


@dataclass(frozen=True, slots=True)
class StepSeries:
    run_id: str
    metric_key: str
    stage_id: str | None
    points: tuple[StepPoint, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class StageDurationPoint:
    run_id: str
    run_name: str
    stage_name: str
    duration_seconds: float
    started_at: str | None = None


@dataclass(frozen=True, slots=True)
class DurationTrend:
    stage_name: str
    project_name: str | None
    points: tuple[StageDurationPoint, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True)
class ArtifactSizePoint:
    run_id: str
    run_name: str
    artifact_kind: str
    size_bytes: int
    artifact_ref: str
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class ArtifactSizeTrend:
    artifact_kind: str
    project_name: str | None
    points: tuple[ArtifactSizePoint, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()


@dataclass(frozen=True, slots=True)
class MetricBaseline:
    metric_key: str
    mean: float
    std: float
    p5: float
    p95: float
    computed_from_n_runs: int
    scale: float | None = None


@dataclass(frozen=True, slots=True)
class AnomalyResult:
    metric_key: str
    run_id: str
    actual_value: int | float
    expected_range: tuple[float, float]
    z_score: float
    severity: str
    evidence_links: tuple[EvidenceLink, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    stage_name: str | None = None


@dataclass(frozen=True, slots=True)
class ReproducibilityAudit:
    run_id: str
    provenance: ProvenanceView | None
    environment_ref: str | None
    python_version: str | None
    platform: str | None
    package_count: int
    environment_variable_count: int
    reproducibility_status: str
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()
    code_revision: str | None = None
    git_dirty: bool | None = None
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class EnvironmentValueChange:
    key: str
    left_value: str | None
    right_value: str | None


@dataclass(frozen=True, slots=True)
class EnvironmentDiff:
    left_run_id: str
    right_run_id: str
    left_environment_ref: str | None
    right_environment_ref: str | None
    python_version_changed: bool
    platform_changed: bool
    added_packages: tuple[EnvironmentValueChange, ...] = ()
    removed_packages: tuple[EnvironmentValueChange, ...] = ()
    changed_packages: tuple[EnvironmentValueChange, ...] = ()
    added_variables: tuple[EnvironmentValueChange, ...] = ()
    removed_variables: tuple[EnvironmentValueChange, ...] = ()
    changed_variables: tuple[EnvironmentValueChange, ...] = ()
    completeness_notes: tuple[CompletenessNote, ...] = ()
    evidence_links: tuple[EvidenceLink, ...] = ()
