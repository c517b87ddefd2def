"""Public home of the interpretation API (contract §2.8); the code lives in ``contexta.interpret``.

This module only re-exports. Classes defined in ``contexta.interpret`` report this module as
their ``__module__`` so tracebacks and reprs show the public path. Names of §2.8 whose
services are not built yet (compare, lineage, alerts, aggregation, reports) are added here
when they land; their error classes already exist.
"""

from __future__ import annotations

from contexta.config.interpretation import (
    AnomalyPolicy,
    ComparisonPolicy,
    DiagnosticsPolicy,
    TrendPolicy,
)
from contexta.errors import (
    AggregationError,
    AlertError,
    AnomalyError,
    ComparisonError,
    DiagnosticsError,
    LineageError,
    ProvenanceError,
    ReportError,
    ReportSerializationError,
    TrendError,
)
from contexta.interpret.anomaly import AnomalyService
from contexta.interpret.diagnostics import DIAGNOSTIC_CODES, DiagnosticsService
from contexta.interpret.provenance import ProvenanceService
from contexta.interpret.query import QueryService
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
from contexta.interpret.repository import (
    ArtifactStoreReader,
    CompositeRepository,
    CompositeStoreRepository,
    ObservabilityRepository,
    RecordStoreReader,
    RelationStoreReader,
    RunStoreReader,
)
from contexta.interpret.results import (
    AnomalyResult,
    ArtifactSizePoint,
    ArtifactSizeTrend,
    CompletenessNote,
    DiagnosticsIssue,
    DiagnosticsResult,
    DurationTrend,
    EnvironmentDiff,
    EnvironmentValueChange,
    EvidenceLink,
    MetricBaseline,
    MetricTrend,
    ReproducibilityAudit,
    RunSnapshot,
    StageDurationPoint,
    StepPoint,
    StepSeries,
    TrendPoint,
)
from contexta.interpret.run_list import MetricCondition, RunListQuery, TimeRange
from contexta.interpret.trend import TrendService

__all__ = [
    # read records (§6.1)
    "RunRecord",
    "StageRecord",
    "BatchRecord",
    "SampleRecord",
    "DeploymentRecord",
    "ArtifactRecord",
    "ObservationRecord",
    "RelationRecord",
    "ProvenanceView",
    # query
    "QueryService",
    "RunListQuery",
    "TimeRange",
    "MetricCondition",
    "RunSnapshot",
    "EvidenceLink",
    "CompositeStoreRepository",
    # repository protocols
    "CompositeRepository",
    "ObservabilityRepository",
    "RunStoreReader",
    "RecordStoreReader",
    "ArtifactStoreReader",
    "RelationStoreReader",
    # compare (what exists so far)
    "ComparisonPolicy",
    "CompletenessNote",
    "ComparisonError",
    # diagnostics
    "DiagnosticsService",
    "DiagnosticsPolicy",
    "DiagnosticsResult",
    "DiagnosticsIssue",
    "DiagnosticsError",
    "DIAGNOSTIC_CODES",
    # lineage (what exists so far)
    "LineageError",
    # trend
    "TrendService",
    "TrendPolicy",
    "MetricTrend",
    "TrendPoint",
    "StepSeries",
    "StepPoint",
    "DurationTrend",
    "StageDurationPoint",
    "ArtifactSizeTrend",
    "ArtifactSizePoint",
    "TrendError",
    # provenance
    "ProvenanceService",
    "ReproducibilityAudit",
    "EnvironmentDiff",
    "EnvironmentValueChange",
    "ProvenanceError",
    # alert (what exists so far)
    "AlertError",
    # anomaly
    "AnomalyService",
    "AnomalyPolicy",
    "AnomalyResult",
    "MetricBaseline",
    "AnomalyError",
    # aggregation (what exists so far)
    "AggregationError",
    # reports (what exists so far)
    "ReportError",
    "ReportSerializationError",
]

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("contexta.interpret."):
        _obj.__module__ = __name__
del _name, _obj
