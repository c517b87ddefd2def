"""Interpretation policies: compare, diagnose, report, search, trend, anomaly, alert (§9.5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal, get_args

from contexta.config import _specs as s

__all__ = [
    "AlertPolicy",
    "AnomalyPolicy",
    "ComparisonPolicy",
    "DiagnosticsPolicy",
    "InterpretationConfig",
    "ReportPolicy",
    "SearchPolicy",
    "TrendPolicy",
    "MetricSelection",
    "SEARCH_TEXT_FIELDS",
    "Severity",
]

MetricSelection = Literal["latest", "max", "min", "mean"]
Severity = Literal["info", "warning", "error"]
#: Run fields that run search can match besides the run ref.
SEARCH_TEXT_FIELDS: tuple[str, ...] = ("name", "tags", "status", "metadata")


@dataclass(frozen=True, slots=True)
class ComparisonPolicy:
    """How runs are compared (contract §5.7).

    Attributes:
        metric_selection: representative value per stage and key: ``latest``,
            ``max``, ``min`` or ``mean``.
        include_unchanged_metrics: keep metrics equal on both sides in the deltas.
        missing_stage_severity: severity (``info``/``warning``/``error``) of the
            ``missing_stage:<name>`` note.
    """

    _section: ClassVar[str] = "interpretation.comparison"

    metric_selection: MetricSelection = field(
        default="latest", metadata=s.choice(get_args(MetricSelection))
    )
    include_unchanged_metrics: bool = field(default=False, metadata=s.flag())
    missing_stage_severity: Severity = field(
        default="warning", metadata=s.choice(get_args(Severity))
    )

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class DiagnosticsPolicy:
    """Which diagnostics issues are raised and their thresholds (contract §7).

    Attributes:
        require_metrics_for_completed_stages: report ``missing_stage_metrics``.
        detect_degraded_records: report ``degraded_record``.
        expected_terminal_stage_names: stages every run must have, else
            ``missing_expected_stage``; empty means no expectation.
        stale_run_after_seconds: an open run without activity for this long is
            ``stale_run`` (> 0).
        detect_metric_anomalies: report ``anomalous_metric``.
        detect_data_quality: report ``schema_change``, ``null_rate_spike`` and
            ``zero_collapse``.
        null_rate_spike_min_increase: smallest null-rate increase that counts as
            a spike, in (0, 1].
    """

    _section: ClassVar[str] = "interpretation.diagnostics"

    require_metrics_for_completed_stages: bool = field(default=True, metadata=s.flag())
    detect_degraded_records: bool = field(default=True, metadata=s.flag())
    expected_terminal_stage_names: tuple[str, ...] = field(
        default=(), metadata=s.strings(rule="name")
    )
    stale_run_after_seconds: float = field(default=3600.0, metadata=s.number(gt=0))
    detect_metric_anomalies: bool = field(default=True, metadata=s.flag())
    detect_data_quality: bool = field(default=True, metadata=s.flag())
    null_rate_spike_min_increase: float = field(default=0.05, metadata=s.number(gt=0, le=1))

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    """What reports contain (contract §5.15).

    Attributes:
        include_completeness_notes: add Completeness Notes sections.
        include_lineage_summary: add the Lineage section of the snapshot report.
        include_evidence_summary: sections carry evidence links and renderers list them.
    """

    _section: ClassVar[str] = "interpretation.reports"

    include_completeness_notes: bool = field(default=True, metadata=s.flag())
    include_lineage_summary: bool = field(default=True, metadata=s.flag())
    include_evidence_summary: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class SearchPolicy:
    """Run search defaults for the CLI ``search`` command and ``/search/*``.

    Attributes:
        default_limit: default result limit (>= 1).
        text_match_fields: run fields matched by run search (the run ref always
            is); items from ``name``, ``tags``, ``status``, ``metadata``.
        case_sensitive: match text case-sensitively.
    """

    _section: ClassVar[str] = "interpretation.search"

    default_limit: int = field(default=50, metadata=s.integer(ge=1))
    text_match_fields: tuple[str, ...] = field(
        default=("name", "tags", "status"), metadata=s.strings(choices=SEARCH_TEXT_FIELDS)
    )
    case_sensitive: bool = field(default=False, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class TrendPolicy:
    """Trend windows and per-run values (contract §5.12).

    Attributes:
        default_window_runs: runs in a trend, fleet-alert and anomaly-baseline
            window (>= 1).
        metric_aggregation: value per run in trends, alerts, anomalies and
            aggregation: ``latest``, ``max``, ``min`` or ``mean``.
    """

    _section: ClassVar[str] = "interpretation.trend"

    default_window_runs: int = field(default=20, metadata=s.integer(ge=1))
    metric_aggregation: MetricSelection = field(
        default="latest", metadata=s.choice(get_args(MetricSelection))
    )

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class AnomalyPolicy:
    """Anomaly rule parameters (contract §5.11).

    Attributes:
        z_score_threshold: threshold ``t`` of the z-score rule (> 0).
        min_baseline_runs: fewest baseline runs needed to check a key (>= 1).
        monitored_metrics: metric keys to check; empty means every key of the run.
    """

    _section: ClassVar[str] = "interpretation.anomaly"

    z_score_threshold: float = field(default=2.5, metadata=s.number(gt=0))
    min_baseline_runs: int = field(default=3, metadata=s.integer(ge=1))
    monitored_metrics: tuple[str, ...] = field(default=(), metadata=s.strings(rule="key"))

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Alert evaluation defaults (contract §5.13).

    Attributes:
        stop_on_first_trigger: stop evaluating rules after the first triggered one.
        default_severity: severity of rules built by the CLI/HTTP without one
            (``info``, ``warning`` or ``error``).
    """

    _section: ClassVar[str] = "interpretation.alert"

    stop_on_first_trigger: bool = field(default=False, metadata=s.flag())
    default_severity: Severity = field(default="warning", metadata=s.choice(get_args(Severity)))

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class InterpretationConfig:
    """Policies of the interpretation services, one section each.

    Attributes:
        comparison: ``ComparisonPolicy``.
        diagnostics: ``DiagnosticsPolicy``.
        reports: ``ReportPolicy``.
        search: ``SearchPolicy``.
        trend: ``TrendPolicy``.
        anomaly: ``AnomalyPolicy``.
        alert: ``AlertPolicy``.
    """

    _section: ClassVar[str] = "interpretation"

    comparison: ComparisonPolicy = field(
        default_factory=ComparisonPolicy, metadata=s.section(ComparisonPolicy)
    )
    diagnostics: DiagnosticsPolicy = field(
        default_factory=DiagnosticsPolicy, metadata=s.section(DiagnosticsPolicy)
    )
    reports: ReportPolicy = field(default_factory=ReportPolicy, metadata=s.section(ReportPolicy))
    search: SearchPolicy = field(default_factory=SearchPolicy, metadata=s.section(SearchPolicy))
    trend: TrendPolicy = field(default_factory=TrendPolicy, metadata=s.section(TrendPolicy))
    anomaly: AnomalyPolicy = field(default_factory=AnomalyPolicy, metadata=s.section(AnomalyPolicy))
    alert: AlertPolicy = field(default_factory=AlertPolicy, metadata=s.section(AlertPolicy))

    def __post_init__(self) -> None:
        s.validate_fields(self)
