"""What a diagnostic rule sees: the run's snapshot bundle, policies, clock and history.

Rules are plain functions ``rule(inp) -> list[Finding]``; a ``Finding`` pairs an issue with
its position (store sequence or snapshot index) so the service can order issues by rule, then
by subject in snapshot order (contract §7). History (baseline runs and their facts) is loaded
lazily, once per diagnosis, and only when a history rule needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contexta.interpret.baseline import baseline_runs
from contexta.interpret.facts import RunFacts, facts_for_runs, remember_facts
from contexta.interpret.results import DiagnosticsIssue, EvidenceLink

if TYPE_CHECKING:
    from contexta.interpret.anomaly import AnomalyService
    from contexta.interpret.settings import AnalysisSettings
    from contexta.interpret.snapshot import RunBundle
    from contexta.interpret.state import ReadState

__all__ = ["DiagnosisInput", "Finding", "make_issue"]


@dataclass(frozen=True, slots=True)
class Finding:
    """An issue plus its sort position within its code."""

    position: int
    issue: DiagnosticsIssue


def make_issue(
    position: int,
    severity: str,
    code: str,
    summary: str,
    details: Mapping[str, Any],
    subject_ref: str | None,
    *links: EvidenceLink,
) -> Finding:
    return Finding(position, DiagnosticsIssue(severity, code, summary, details, subject_ref, links))


@dataclass(slots=True)
class DiagnosisInput:
    state: ReadState
    bundle: RunBundle
    settings: AnalysisSettings
    anomaly: AnomalyService
    now: datetime
    _baseline: tuple[Any, ...] | None = field(default=None)
    _facts: dict[str, RunFacts] | None = field(default=None)

    @property
    def run(self) -> Any:
        return self.bundle.run

    @property
    def run_id(self) -> str:
        return self.bundle.snapshot.run.run_id

    def baseline(self) -> tuple[Any, ...]:
        """Baseline runs, most recent first (contract §7)."""
        if self._baseline is None:
            window = self.settings.trend.default_window_runs
            self._baseline = baseline_runs(self.state, self.run, window)
        return self._baseline

    def run_facts(self) -> RunFacts:
        return remember_facts(self.state, self.run_id, self.bundle.rows)

    def baseline_columns(self) -> dict[str, list[float]]:
        """Finite baseline values per metric subject (sliding-window cache, see anomaly)."""
        refs = tuple(str(run.run_ref) for run in self.baseline())
        self.baseline_facts()
        assert self._facts is not None
        return self.anomaly.window_columns(self.state, refs, self._facts)

    def baseline_facts(self) -> list[RunFacts]:
        """Facts of the baseline runs, most recent first (one query for uncached runs)."""
        if self._facts is None:
            refs = [str(run.run_ref) for run in self.baseline()]
            self._facts = facts_for_runs(self.state, refs) if refs else {}
        return [self._facts[str(run.run_ref)] for run in self.baseline()]
