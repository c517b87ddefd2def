"""Diagnostic rules that compare a run with its baseline runs (contract §7, §7.1).

``anomalous_metric`` applies the §5.11 rule with ``trend.metric_aggregation`` values, like
``detect_anomalies``. The data-quality codes report the data-quality layer's findings
(degraded records ``dq.*``) with their own severity, and also compute the same conditions from
statistic metrics and schema events, so hand-written data is covered; when both flag the same
(code, dataset and column, or metric), only the finding is reported. Their "value" is the
representative value of §5.7 (``comparison.metric_selection``).

Profiles the layer recorded with ``checks=False`` have no stored findings; the layer's own
rules judge them here (``contexta.quality.deferred``, imported lazily: interpret sits above
quality only for this), so they report what capture-time checks would have recorded
instead of the generic computed rules, which neither know the layer's thresholds nor leave
broken nights out of the baseline.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from contexta.interpret.baseline import could_exceed
from contexta.interpret.diagnosis_input import make_issue
from contexta.interpret.facts import (
    representative,
    schema_facts_for_runs,
    schema_facts_from_rows,
)
from contexta.interpret.record_rules import DQ_FINDING_CODES
from contexta.interpret.results import EvidenceLink

if TYPE_CHECKING:
    from contexta.interpret.diagnosis_input import DiagnosisInput, Finding
    from contexta.interpret.facts import MetricSummary

__all__ = ["QualityRules", "anomalous_metric", "is_null_rate_metric"]

_LOG = logging.getLogger(__name__)
_DEFERRED_KEY = "dq.deferred"
_DEFERRED_SOURCE = "deferred_check"

_FINDING_DETAIL_KEYS = {
    "schema_change": ("dataset", "added", "removed", "type_changed", "baseline_run_id"),
    "null_rate_spike": (
        "metric_key",
        "dataset",
        "column",
        "value",
        "baseline_max",
        "baseline_run_count",
    ),
    "zero_collapse": ("metric_key", "dataset", "column", "value", "baseline_min", "baseline_max"),
}
_SEGMENT_SPLIT = re.compile(r"[./]")


def is_null_rate_metric(key: str, tags: Any) -> bool:
    """Null-rate metric per §7.1: ``dq.stat == "null_rate"`` or a null-rate key segment."""
    return _null_rate_key(key) or (bool(tags) and tags.get("dq.stat") == "null_rate")


@lru_cache(maxsize=4096)
def _null_rate_key(key: str) -> bool:
    last = _SEGMENT_SPLIT.split(key)[-1]
    return last in ("null_rate", "null-rate") or last.endswith(("_null_rate", "-null-rate"))


def _judged_by_layer(tags: Mapping[str, str]) -> bool:
    """Statistics the quality layer already checked against history (its findings count)."""
    return tags.get("dq.source") == "contexta.quality"


def _checked_by_layer(attributes: Any) -> bool:
    """A schema event the quality layer already compared with its own, cleaner history."""
    return isinstance(attributes, Mapping) and attributes.get("checked_by") == "contexta.quality"


def _last_component(ref: str | None) -> str | None:
    return None if ref is None else ref.partition(":")[2].rsplit(".", 1)[-1]


def _deferred_profiles(inp: DiagnosisInput) -> tuple[Any, ...] | None:
    """The quality layer's read-time verdicts on this run (``None``: unavailable)."""
    run_ref = str(inp.run.run_ref)
    key = (_DEFERRED_KEY, run_ref)
    cached = inp.state.extras.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    repo = inp.state.repository
    metadata_store = getattr(repo, "metadata_store", None)
    record_store = getattr(repo, "record_store", None)
    if metadata_store is None or record_store is None:
        return None  # a repository without stores (tests' in-memory fake): computed rules
    try:
        from contexta.quality.deferred import DEFERRED_CHECKS

        profiles = DEFERRED_CHECKS.profiles(metadata_store, record_store, run_ref)
    except Exception as exc:  # diagnose_run never fails because of a rule
        _LOG.warning(
            "read-time data-quality checks of %s failed, the computed rules are used: %s",
            run_ref,
            exc,
            exc_info=True,
        )
        return None
    inp.state.extras[key] = profiles
    return profiles


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def anomalous_metric(inp: DiagnosisInput) -> list[Finding]:
    if not inp.settings.diagnostics.detect_metric_anomalies or not inp.baseline():
        return []
    monitored = inp.settings.anomaly.monitored_metrics
    columns = inp.baseline_columns()
    found = []
    run_id = inp.run_id
    facts = inp.run_facts()
    current = facts.finite_values(inp.anomaly.metric_aggregation)
    threshold = inp.anomaly.z_score_threshold
    fewest = inp.anomaly.min_baseline_runs
    for summary in facts.metrics.values():
        if monitored and summary.key not in monitored:
            continue
        if "dq.stat" in summary.latest_tags:
            # Profile statistics are judged by the data-quality rules, whose
            # thresholds tolerate ordinary day-to-day noise; a z-score over a
            # few nights of real data flags healthy nights (issue 5 false alarms).
            continue
        # Cheap pre-check: most keys are in range, and only out-of-range ones become issues.
        value = current.get(summary.subject)
        values = columns.get(summary.subject)
        if value is None or values is None or len(values) < fewest:
            continue
        if not could_exceed(value, values, threshold):
            continue
        scored = inp.anomaly.score_summary(run_id, summary, columns)
        if scored is None:
            continue
        result, score = scored
        if result.severity == "info":
            continue
        details = {
            "metric_key": summary.key,
            "stage_name": summary.stage_name,
            "actual_value": result.actual_value,
            "baseline_mean": score.mean,
            "baseline_std": score.std,
            "scale": score.scale,
            "z_score": score.z_score,
            "expected_range": score.expected_range,
            "baseline_run_count": score.baseline_count,
        }
        where = f" in stage {summary.stage_name}" if summary.stage_name else ""
        low, high = score.expected_range
        text = (
            f"metric {summary.key}{where} is {result.actual_value:g}, outside the expected "
            f"range {low:g} to {high:g} (z = {score.z_score:.1f} over "
            f"{score.baseline_count} baseline runs)"
        )
        found.append(
            make_issue(
                summary.first_position,
                result.severity,
                "anomalous_metric",
                text,
                details,
                summary.latest_record_id,
                *result.evidence_links,
            )
        )
    return found


class QualityRules:
    """The three data-quality codes for one diagnosis (findings first, then computed)."""

    def __init__(self, inp: DiagnosisInput) -> None:
        self.inp = inp
        self.enabled = inp.settings.diagnostics.detect_data_quality
        self.selection = inp.settings.comparison.metric_selection
        self._claimed: set[tuple[str, ...]] = set()
        self._maps: list[Mapping[str, float]] | None = None
        self._findings: dict[str, list[Finding]] = {code: [] for code in _FINDING_DETAIL_KEYS}
        self._deferred_events: set[str] = set()
        self._deferred_degraded: list[Finding] = []
        if self.enabled:
            self._collect_findings()
            self._collect_deferred()

    def _collect_findings(self) -> None:
        records = self.inp.bundle.snapshot.records
        for index, row in enumerate(self.inp.bundle.rows):
            if row.record_type != "degraded" or row.key not in DQ_FINDING_CODES:
                continue
            code = DQ_FINDING_CODES[row.key]
            payload = records[index].payload
            attributes = payload.get("attributes") or {}
            details = {key: attributes.get(key) for key in _FINDING_DETAIL_KEYS[code]}
            if "metric_key" in details and details["metric_key"] is None:
                # The quality layer stores the key under "metric": capture redacts
                # attribute names containing "key" (contract §8.7).
                details["metric_key"] = attributes.get("metric")
            details["record_id"] = row.record_ref
            details["source"] = "finding"
            severity = str(payload.get("severity") or "warning")
            link = EvidenceLink("record", row.record_ref, f"degraded:{row.key}")
            self._findings[code].append(
                make_issue(
                    row.sequence,
                    severity,
                    code,
                    str(payload.get("summary")),
                    details,
                    row.record_ref,
                    link,
                )
            )
            dataset, column = attributes.get("dataset"), attributes.get("column")
            if dataset is not None:
                self._claimed.add((code, "dataset", str(dataset), str(column)))
            if attributes.get("metric_key") is not None:
                self._claimed.add((code, "metric", str(attributes["metric_key"])))

    def _collect_deferred(self) -> None:
        """Findings of this run's unchecked profiles, judged now as capture would have."""
        records = self.inp.bundle.snapshot.records
        rows = self.inp.bundle.rows
        schema_rows: dict[tuple[str | None, str | None, str], Any] = {}
        for index, row in enumerate(rows):
            if row.record_type != "event" or not row.key.endswith(".schema"):
                continue
            attributes = records[index].payload.get("attributes")
            if not isinstance(attributes, Mapping) or _checked_by_layer(attributes):
                continue
            dataset = attributes.get("dataset")
            if isinstance(dataset, str):
                where = (_last_component(row.stage_ref), _last_component(row.batch_ref), dataset)
                schema_rows[where] = row
        if not schema_rows:
            return
        profiles = _deferred_profiles(self.inp)
        if not profiles:
            return
        metrics: dict[tuple[str | None, str | None, str], Any] | None = None
        for profile in profiles:
            schema_row = schema_rows.get((profile.stage, profile.batch, profile.dataset))
            if schema_row is None or profile.error is not None:
                continue  # not judged: the computed rules stay in charge
            self._deferred_events.add(schema_row.record_ref)
            for finding in profile.findings:
                metric = finding.attributes.get("metric")
                subject = schema_row
                if isinstance(metric, str):
                    if metrics is None:
                        metrics = {
                            (_last_component(r.stage_ref), _last_component(r.batch_ref), r.key): r
                            for r in rows
                            if r.record_type == "metric"
                        }
                    subject = metrics.get((profile.stage, profile.batch, metric), schema_row)
                self._add_deferred(finding, schema_row, subject)

    def _add_deferred(self, finding: Any, schema_row: Any, subject: Any) -> None:
        attributes = finding.attributes
        link = EvidenceLink("record", subject.record_ref, f"{subject.record_type}:{subject.key}")
        code = DQ_FINDING_CODES.get(finding.issue_key)
        if code is None:  # e.g. dq.row_count_drop: a degraded record when stored
            details = {
                "record_type": "degraded",
                "degradation_marker": "partial_failure",
                "stage_id": schema_row.stage_ref,
                "batch_id": schema_row.batch_ref,
                "category": "verification",
                "payload_severity": finding.severity,
                "summary": finding.summary,
                "source": _DEFERRED_SOURCE,
                "evidence": dict(attributes),
            }
            text = f"degraded record detected for {finding.issue_key}: {finding.summary}"
            self._deferred_degraded.append(
                make_issue(
                    schema_row.sequence,
                    finding.severity,
                    "degraded_record",
                    text,
                    details,
                    subject.record_ref,
                    link,
                )
            )
            return
        details = {key: attributes.get(key) for key in _FINDING_DETAIL_KEYS[code]}
        if "metric_key" in details and details["metric_key"] is None:
            details["metric_key"] = attributes.get("metric")
        details["record_id"] = subject.record_ref
        details["source"] = _DEFERRED_SOURCE
        details["evidence"] = dict(attributes)
        self._findings[code].append(
            make_issue(
                schema_row.sequence,
                finding.severity,
                code,
                finding.summary,
                details,
                subject.record_ref,
                link,
            )
        )
        dataset, column = attributes.get("dataset"), attributes.get("column")
        if dataset is not None:
            self._claimed.add((code, "dataset", str(dataset), str(column)))
        if details.get("metric_key") is not None:
            self._claimed.add((code, "metric", str(details["metric_key"])))

    def deferred_degraded_records(self) -> list[Finding]:
        """Read-time findings that are ``degraded_record`` issues when stored (row-count drops).

        ``degraded_record`` is computed before this class runs; the service adds these.
        """
        if not self.inp.settings.diagnostics.detect_degraded_records:
            return []
        return list(self._deferred_degraded)

    def _layer_checked_schema_events(self) -> set[str]:
        """Record refs of this run's schema events that the quality layer judged itself.

        The layer leaves runs with findings out of a dataset's baseline; comparing such an
        event again with the latest baseline run here would report the night after a
        break as a schema change back.
        """
        records = self.inp.bundle.snapshot.records
        checked = set()
        for index, row in enumerate(self.inp.bundle.rows):
            if row.record_type != "event" or not row.key.endswith(".schema"):
                continue
            if _checked_by_layer(records[index].payload.get("attributes")):
                checked.add(row.record_ref)
        return checked

    def _is_claimed(self, code: str, dataset: Any, column: Any, metric_key: str | None) -> bool:
        if dataset is not None and (code, "dataset", str(dataset), str(column)) in self._claimed:
            return True
        return metric_key is not None and (code, "metric", metric_key) in self._claimed

    def _baseline_values(self, summary: MetricSummary) -> list[float]:
        if self._maps is None:
            selection = self.selection
            self._maps = [f.finite_values(selection) for f in self.inp.baseline_facts()]
        subject = summary.subject
        return [v for found in self._maps if (v := found.get(subject)) is not None]

    # -- codes ------------------------------------------------------------------------------

    def schema_change(self) -> list[Finding]:
        found = list(self._findings["schema_change"])
        if not self.enabled:
            return found
        current = schema_facts_from_rows(self.inp.bundle.rows)
        if not current or not self.inp.baseline():
            return found
        baseline = self.inp.baseline()
        history = schema_facts_for_runs(self.inp.state, [str(r.run_ref) for r in baseline])
        judged = self._layer_checked_schema_events() | self._deferred_events
        for dataset, fact in current.items():
            if self._is_claimed("schema_change", dataset, None, None):
                continue
            if fact.record_id in judged:
                continue
            previous = next(
                (
                    (str(r.run_ref), history[str(r.run_ref)][dataset])
                    for r in baseline
                    if dataset in history[str(r.run_ref)]
                ),
                None,
            )
            if previous is None:
                continue
            base_run, base_fact = previous
            old, new = base_fact.columns, fact.columns
            added = tuple(sorted(set(new) - set(old)))
            removed = tuple(sorted(set(old) - set(new)))
            retyped = {c: (old[c], new[c]) for c in sorted(set(old) & set(new)) if old[c] != new[c]}
            if not (added or removed or retyped):
                continue
            details = {
                "dataset": dataset,
                "added": added,
                "removed": removed,
                "type_changed": retyped,
                "baseline_run_id": base_run,
            }
            parts = [
                f"{label} {', '.join(cols)}"
                for label, cols in (
                    ("added", added),
                    ("removed", removed),
                    ("retyped", tuple(retyped)),
                )
                if cols
            ]
            summary = f"schema of dataset {dataset} changed since {base_run}: {'; '.join(parts)}"
            link = EvidenceLink("record", fact.record_id, f"event:{dataset}.schema")
            found.append(
                make_issue(
                    fact.position,
                    "warning",
                    "schema_change",
                    summary,
                    details,
                    fact.record_id,
                    link,
                )
            )
        return found

    def null_rate_spike(self) -> list[Finding]:
        found = list(self._findings["null_rate_spike"])
        if not self.enabled or not self.inp.baseline():
            return found
        minimum = self.inp.settings.diagnostics.null_rate_spike_min_increase
        for summary in self.inp.run_facts().metrics.values():
            tags = summary.latest_tags
            if not is_null_rate_metric(summary.key, tags) or _judged_by_layer(tags):
                continue
            value, _ = representative(summary, self.selection)
            values = self._baseline_values(summary)
            if not _finite(value) or not values:
                continue
            top = max(values)
            if value - top < minimum:
                continue
            dataset, column = tags.get("dq.dataset"), tags.get("dq.column")
            if self._is_claimed("null_rate_spike", dataset, column, summary.key):
                continue
            severity = "error" if value >= max(0.5, 10 * top) else "warning"
            details = {
                "metric_key": summary.key,
                "dataset": dataset,
                "column": column,
                "value": value,
                "baseline_max": top,
                "baseline_run_count": len(values),
            }
            text = (
                f"null rate {summary.key} rose to {value:g} from at most {top:g} over "
                f"{len(values)} baseline runs"
            )
            link = EvidenceLink("record", summary.latest_record_id, f"metric:{summary.key}")
            found.append(
                make_issue(
                    summary.first_position,
                    severity,
                    "null_rate_spike",
                    text,
                    details,
                    summary.latest_record_id,
                    link,
                )
            )
        return found

    def zero_collapse(self) -> list[Finding]:
        found = list(self._findings["zero_collapse"])
        if not self.enabled or not self.inp.baseline():
            return found
        for summary in self.inp.run_facts().metrics.values():
            tags = summary.latest_tags
            stat = tags.get("dq.stat")
            if stat not in ("zero_rate", "row_count") or _judged_by_layer(tags):
                continue
            value, _ = representative(summary, self.selection)
            values = self._baseline_values(summary)
            if not values:
                continue
            if stat == "zero_rate":
                collapsed = value == 1.0 and all(v < 1.0 for v in values)
            else:
                collapsed = value == 0 and all(v > 0 for v in values)
            dataset, column = tags.get("dq.dataset"), tags.get("dq.column")
            if not collapsed or self._is_claimed("zero_collapse", dataset, column, summary.key):
                continue
            details = {
                "metric_key": summary.key,
                "dataset": dataset,
                "column": column,
                "value": value,
                "baseline_min": min(values),
                "baseline_max": max(values),
            }
            what = "every value is zero" if stat == "zero_rate" else "no rows"
            text = f"{summary.key} collapsed to {value:g} ({what}) after {len(values)} healthy runs"
            link = EvidenceLink("record", summary.latest_record_id, f"metric:{summary.key}")
            found.append(
                make_issue(
                    summary.first_position,
                    "error",
                    "zero_collapse",
                    text,
                    details,
                    summary.latest_record_id,
                    link,
                )
            )
        return found
