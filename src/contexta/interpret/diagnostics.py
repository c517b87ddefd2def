"""``DiagnosticsService.diagnose_run``: every rule of contract §7 over stored data.

The service reuses the run's cached snapshot bundle (built by ``get_run_snapshot`` in the same
data version, or built here), evaluates the rules in table order and sorts each rule's issues
by subject position in the snapshot. It never raises because of what it finds; only an
unknown run raises (contract §5.3).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contexta.interpret import lifecycle_rules as life
from contexta.interpret import record_rules as rec
from contexta.interpret.anomaly import AnomalyService
from contexta.interpret.diagnosis_input import DiagnosisInput, Finding
from contexta.interpret.frozen_map import FrozenMap
from contexta.interpret.history_rules import QualityRules, anomalous_metric
from contexta.interpret.results import CompletenessNote, DiagnosticsIssue, DiagnosticsResult
from contexta.interpret.settings import resolve_settings
from contexta.interpret.snapshot import build_bundle

if TYPE_CHECKING:
    from contexta.interpret.query import QueryService

__all__ = ["DIAGNOSTIC_CODES", "DiagnosticsService"]

#: Every diagnostics code, in the table order of contract §7.
DIAGNOSTIC_CODES: tuple[str, ...] = (
    "failed_run",
    "cancelled_run",
    "stale_run",
    "incomplete_stage",
    "missing_stage_metrics",
    "failed_batch",
    "incomplete_batch",
    "failed_deployment",
    "degraded_record",
    "orphan_record",
    "non_finite_metric",
    "duplicate_metric_step",
    "anomalous_metric",
    "schema_change",
    "null_rate_spike",
    "zero_collapse",
    "missing_expected_stage",
)

Rule = Callable[[DiagnosisInput], list[Finding]]
_SIMPLE_RULES: tuple[tuple[str, Rule], ...] = (
    ("failed_run", life.failed_run),
    ("cancelled_run", life.cancelled_run),
    ("stale_run", life.stale_run),
    ("incomplete_stage", life.incomplete_stage),
    ("missing_stage_metrics", life.missing_stage_metrics),
    ("failed_batch", life.failed_batch),
    ("incomplete_batch", life.incomplete_batch),
    ("failed_deployment", life.failed_deployment),
    ("degraded_record", rec.degraded_record),
    ("orphan_record", rec.orphan_record),
    ("non_finite_metric", rec.non_finite_metric),
    ("duplicate_metric_step", rec.duplicate_metric_step),
    ("anomalous_metric", anomalous_metric),
)


class DiagnosticsService:
    """``DiagnosticsService(query_service, *, config=None)``.

    ``config`` is ``None``, a ``UnifiedConfig``, an ``InterpretationConfig`` or a
    ``DiagnosticsPolicy`` (then trend and anomaly settings keep their defaults). ``clock``
    returns the current aware datetime; tests pass a fixed one for ``stale_run``.
    """

    def __init__(
        self,
        query_service: QueryService,
        *,
        config: Any = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.query_service = query_service
        self.settings = resolve_settings(config)
        self.anomaly_service = AnomalyService.from_config(query_service, self.settings)
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def policy(self) -> Any:
        """The ``DiagnosticsPolicy`` in use."""
        return self.settings.diagnostics

    def diagnose_run(self, run_id: object) -> DiagnosticsResult:
        """Issues of the run in contract §7 table order, then snapshot order."""
        state = self.query_service.read_state()
        run = state.resolve_run(run_id)
        bundle = build_bundle(state, run)
        inp = DiagnosisInput(state, bundle, self.settings, self.anomaly_service, self._clock())
        by_code: dict[str, list[Finding]] = {}
        for code, rule in _SIMPLE_RULES:
            by_code[code] = rule(inp)
        quality = QualityRules(inp)
        by_code["schema_change"] = quality.schema_change()
        by_code["null_rate_spike"] = quality.null_rate_spike()
        by_code["zero_collapse"] = quality.zero_collapse()
        # Read-time checks' row-count drops: stored ones are degraded records too.
        by_code["degraded_record"] += quality.deferred_degraded_records()
        by_code["missing_expected_stage"] = life.missing_expected_stage(inp)
        issues: list[DiagnosticsIssue] = []
        for code in DIAGNOSTIC_CODES:
            findings = by_code.get(code) or ()
            issues.extend(f.issue for f in sorted(findings, key=lambda f: f.position))
        snapshot = bundle.snapshot
        run_details = FrozenMap({"run_id": snapshot.run.run_id})
        notes = tuple(
            CompletenessNote("info", note, run_details) for note in snapshot.completeness_notes
        )
        return DiagnosticsResult(snapshot.run.run_id, tuple(issues), notes, snapshot.evidence_links)
