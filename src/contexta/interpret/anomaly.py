"""Metric anomalies against a run's history (contract §5.11).

The rule lives in ``baseline.score_value``; this module picks the keys, the baseline runs and
each run's representative value (``trend.metric_aggregation``), and builds ``AnomalyResult``s.
Keys are matched within the same stage name (or both at run level); non-finite values are
left to the ``non_finite_metric`` diagnostic.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from contexta.config.interpretation import TrendPolicy
from contexta.errors import AnomalyError, ValidationError, truncate_value
from contexta.interpret.baseline import AnomalyScore, baseline_runs, percentile, score_value
from contexta.interpret.facts import (
    MetricSummary,
    RunFacts,
    facts_for_runs,
    facts_of,
    representative,
    summary_for,
)
from contexta.interpret.results import AnomalyResult, EvidenceLink, MetricBaseline
from contexta.interpret.run_list import RunListQuery, require_query, select_runs
from contexta.interpret.settings import resolve_settings

if TYPE_CHECKING:
    from contexta.interpret.query import QueryService
    from contexta.interpret.state import ReadState

__all__ = ["AnomalyPolicyError", "AnomalyService", "check_key_list", "stage_order_of"]

_LOG = logging.getLogger(__name__)
_SELECTIONS = ("latest", "max", "min", "mean")


class AnomalyPolicyError(AnomalyError, ValidationError):
    """A bad anomaly parameter (both ``AnomalyError`` and ``ValidationError``)."""

    default_code = "anomaly_invalid_policy"


def _reject(field: str, value: object, allowed: str) -> NoReturn:
    shown = truncate_value(value)
    message = f"invalid {field}: got {shown}; allowed: {allowed}"
    raise AnomalyPolicyError(message, details={"field": field, "value": shown, "allowed": allowed})


def check_key_list(value: object, field: str) -> tuple[str, ...] | None:
    """``None`` or a list/tuple of non-empty strings, as a tuple."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        _reject(field, value, "a list or tuple of metric keys, or None")
    for item in value:
        if not isinstance(item, str) or not item:
            _reject(field, item, "non-empty metric key strings")
    return tuple(value)


def stage_order_of(state: ReadState, run: Any) -> dict[str | None, int]:
    """Position of each stage name in the run's pipeline order (run level last)."""
    bundle = state.cached_snapshot(str(run.run_ref))
    if bundle is not None:
        names = [stage.name for stage in bundle.snapshot.stages]
    else:
        names = [stage.stage_name for stage in state.repository.list_stages([str(run.run_ref)])]
    order: dict[str | None, int] = {}
    for name in names:
        order.setdefault(name, len(order))
    order[None] = len(order)
    return order


class AnomalyService:
    """``AnomalyService(query_service, *, z_score_threshold=2.5, min_baseline_runs=3, …)``."""

    def __init__(
        self,
        query_service: QueryService,
        *,
        z_score_threshold: float = 2.5,
        min_baseline_runs: int = 3,
        metric_aggregation: str = "latest",
        monitored_metrics: Sequence[str] = (),
        baseline_window_runs: int | None = None,
    ) -> None:
        if (
            isinstance(z_score_threshold, bool)
            or not isinstance(z_score_threshold, int | float)
            or not math.isfinite(z_score_threshold)
            or z_score_threshold <= 0
        ):
            _reject("z_score_threshold", z_score_threshold, "a finite number > 0")
        if (
            isinstance(min_baseline_runs, bool)
            or not isinstance(min_baseline_runs, int)
            or min_baseline_runs < 1
        ):
            _reject("min_baseline_runs", min_baseline_runs, "an int >= 1")
        if metric_aggregation not in _SELECTIONS:
            _reject("metric_aggregation", metric_aggregation, ", ".join(_SELECTIONS))
        monitored = check_key_list(monitored_metrics, "monitored_metrics") or ()
        if baseline_window_runs is None:
            baseline_window_runs = TrendPolicy().default_window_runs
        if (
            isinstance(baseline_window_runs, bool)
            or not isinstance(baseline_window_runs, int)
            or baseline_window_runs < 1
        ):
            _reject("baseline_window_runs", baseline_window_runs, "an int >= 1")
        self.query_service = query_service
        self.z_score_threshold = float(z_score_threshold)
        self.min_baseline_runs = min_baseline_runs
        self.metric_aggregation = metric_aggregation
        self.monitored_metrics = monitored
        self.baseline_window_runs = baseline_window_runs

    @classmethod
    def from_config(cls, query_service: QueryService, config: Any = None) -> AnomalyService:
        """The service configured from ``interpretation.anomaly`` and ``interpretation.trend``.

        ``config`` is ``None``, a ``UnifiedConfig``, an ``InterpretationConfig`` or an
        ``AnomalyPolicy``.
        """
        settings = resolve_settings(config)
        anomaly, trend = settings.anomaly, settings.trend
        return cls(
            query_service,
            z_score_threshold=anomaly.z_score_threshold,
            min_baseline_runs=anomaly.min_baseline_runs,
            metric_aggregation=trend.metric_aggregation,
            monitored_metrics=anomaly.monitored_metrics,
            baseline_window_runs=trend.default_window_runs,
        )

    # -- public methods ---------------------------------------------------------------------

    def detect_anomalies_in_run(
        self,
        run_id: object,
        *,
        baseline_query: RunListQuery | None = None,
        metric_keys: Sequence[str] | None = None,
        stage_name: str | None = None,
    ) -> tuple[AnomalyResult, ...]:
        """One ``AnomalyResult`` per checked key of the run, ordered by stage then key."""
        keys = check_key_list(metric_keys, "metric_keys")
        if stage_name is not None and (not isinstance(stage_name, str) or not stage_name):
            _reject("stage_name", stage_name, "a stage name or None")
        baseline_query = require_query(baseline_query, "baseline_query")
        state = self.query_service.read_state()
        run = state.resolve_run(run_id)
        run_ref = str(run.run_ref)
        if baseline_query is None:
            window = self.baseline_window_runs
            base_refs = [str(r.run_ref) for r in baseline_runs(state, run, window)]
        else:
            selected = select_runs(state, baseline_query)
            base_refs = [r.run_id for r in selected if r.run_id != run_ref]
        facts = facts_for_runs(state, [run_ref, *base_refs])
        columns = self.baseline_columns([facts[ref] for ref in base_refs])
        order = stage_order_of(state, run)
        wanted = keys if keys is not None else (self.monitored_metrics or None)
        subjects = [
            summary
            for (stage, key), summary in facts[run_ref].metrics.items()
            if (stage_name is None or stage == stage_name) and (wanted is None or key in wanted)
        ]
        subjects.sort(key=lambda s: (order.get(s.stage_name, len(order)), s.key))
        results = []
        for summary in subjects:
            scored = self.score_summary(run_ref, summary, columns)
            if scored is not None:
                results.append(scored[0])
        return tuple(results)

    def detect_anomalies(
        self, run_id: object, *, baseline: MetricBaseline, stage_name: str | None = None
    ) -> tuple[AnomalyResult, ...]:
        """Check the run's value of ``baseline.metric_key`` against a precomputed baseline."""
        if not isinstance(baseline, MetricBaseline):
            _reject("baseline", baseline, "a MetricBaseline")
        if stage_name is not None and (not isinstance(stage_name, str) or not stage_name):
            _reject("stage_name", stage_name, "a stage name or None")
        state = self.query_service.read_state()
        run = state.resolve_run(run_id)
        run_ref = str(run.run_ref)
        summary = summary_for(
            facts_for_runs(state, [run_ref])[run_ref], baseline.metric_key, stage_name
        )
        if summary is None or baseline.computed_from_n_runs < self.min_baseline_runs:
            return ()
        value, _ = representative(summary, self.metric_aggregation)
        if not _is_finite(value) or not math.isfinite(baseline.mean):
            return ()
        scale = baseline.scale or max(baseline.std, 0.01 * abs(baseline.mean), 1e-9)
        score = score_value(value, [baseline.mean], self.z_score_threshold, scale=scale)
        return (
            AnomalyResult(
                baseline.metric_key,
                run_ref,
                value,
                score.expected_range,
                score.z_score,
                score.severity,
                (EvidenceLink("record", summary.latest_record_id, f"metric:{summary.key}"),),
                (),
                stage_name,
            ),
        )

    def compute_baseline(
        self,
        metric_key: str,
        *,
        query: RunListQuery | None = None,
        project_name: str | None = None,
        stage_name: str | None = None,
    ) -> MetricBaseline:
        """Baseline statistics of ``metric_key`` over the selected runs.

        With ``query``: the runs it selects; otherwise the most recent
        ``baseline_window_runs`` completed runs of ``project_name`` (or of every project).
        """
        if not isinstance(metric_key, str) or not metric_key:
            _reject("metric_key", metric_key, "a non-empty metric key")
        if stage_name is not None and (not isinstance(stage_name, str) or not stage_name):
            _reject("stage_name", stage_name, "a stage name or None")
        query = require_query(query)
        state = self.query_service.read_state()
        if query is not None:
            runs = select_runs(state, query)
        else:
            runs = select_runs(state, RunListQuery(project_name=project_name, status="completed"))
            runs = runs[-self.baseline_window_runs :]
        refs = [r.run_id for r in runs]
        facts = facts_for_runs(state, refs)
        values = []
        for ref in refs:
            summary = summary_for(facts[ref], metric_key, stage_name)
            if summary is not None:
                value, _ = representative(summary, self.metric_aggregation)
                if _is_finite(value):
                    values.append(float(value))
        if not values:
            nan = math.nan
            return MetricBaseline(metric_key, nan, nan, nan, nan, 0, None)
        score = score_value(values[0], values, self.z_score_threshold)
        return MetricBaseline(
            metric_key,
            score.mean,
            score.std,
            percentile(values, 0.05),
            percentile(values, 0.95),
            len(values),
            score.scale,
        )

    # -- shared with diagnostics ------------------------------------------------------------

    def baseline_columns(self, baseline_facts: Sequence[RunFacts]) -> dict[str, list[float]]:
        """Finite baseline values per ``subject_id``: one pass over all baseline runs."""
        selection = self.metric_aggregation
        columns: dict[str, list[float]] = {}
        for facts in baseline_facts:
            for subject, value in facts.finite_values(selection).items():
                column = columns.get(subject)
                if column is None:
                    columns[subject] = [value]
                else:
                    column.append(value)
        return columns

    def window_columns(
        self, state: ReadState, refs: tuple[str, ...], facts: Mapping[str, RunFacts]
    ) -> dict[str, list[float]]:
        """``baseline_columns`` for baseline runs ``refs`` (most recent first), reusing the
        previous window of this data version when the new one is it slid by one run.

        A loop that diagnoses a project's runs in order moves the window one run at a
        time; updating costs O(keys) instead of O(keys * window). The result equals a fresh
        ``baseline_columns`` exactly (same values in the same order). Dicts and lists are
        never changed once handed out, so concurrent callers are safe.
        """
        selection = self.metric_aggregation
        cache_key = ("baseline_columns", selection)
        held = state.extras.get(cache_key)
        columns: dict[str, list[float]] | None = None
        if held is not None and refs:
            previous_refs, previous = held
            if refs == previous_refs:
                return previous  # type: ignore[no-any-return]
            keep = len(refs) - 1
            if refs[1:] == previous_refs[:keep] and refs[0] not in previous_refs:
                columns = dict(previous)
                for dropped in reversed(previous_refs[keep:]):
                    for subject in facts_of(state, dropped).finite_values(selection):
                        remaining = columns[subject][:-1]
                        if remaining:
                            columns[subject] = remaining
                        else:
                            del columns[subject]
                for subject, value in facts[refs[0]].finite_values(selection).items():
                    columns[subject] = [value, *columns.get(subject, ())]
        if columns is None:
            columns = self.baseline_columns([facts[ref] for ref in refs])
        state.extras[cache_key] = (refs, columns)
        return columns

    def score_summary(
        self,
        run_ref: str,
        summary: MetricSummary,
        baseline_columns: Mapping[str, list[float]],
    ) -> tuple[AnomalyResult, AnomalyScore] | None:
        """Score one (stage, key) of a run; ``None`` when skipped (non-finite or small base)."""
        value, _ = representative(summary, self.metric_aggregation)
        if not _is_finite(value):
            return None
        values = baseline_columns.get(summary.subject, [])
        if len(values) < self.min_baseline_runs:
            _LOG.debug("baseline_population_small:%s (%d runs)", summary.key, len(values))
            return None
        score = score_value(value, values, self.z_score_threshold)
        result = AnomalyResult(
            summary.key,
            run_ref,
            value,
            score.expected_range,
            score.z_score,
            score.severity,
            (EvidenceLink("record", summary.latest_record_id, f"metric:{summary.key}"),),
            (),
            summary.stage_name,
        )
        return result, score


def _is_finite(value: int | float) -> bool:
    return not isinstance(value, float) or math.isfinite(value)
