"""Record-writing half of the test ``Builder``: metrics, events, degraded records, spans."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from contexta.contract import (
    DegradedPayload,
    DegradedRecord,
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
)

#: The fixed "now" of diagnostics tests (stale-run checks).
NOW = datetime(2025, 4, 1, 3, 0, tzinfo=UTC)


def day(n: int, hour: int = 1, minute: int = 0) -> str:
    return f"2025-04-{n:02d}T{hour:02d}:{minute:02d}:00Z"


class RecordBuilder:
    """Appends records to ``self.target``; record refs count up from ``id_start``."""

    target: Any

    def __init__(self, target: Any, *, id_start: int = 1) -> None:
        self.target = target
        self._ids = itertools.count(id_start)

    def _envelope(
        self,
        run_ref: str,
        kind: str,
        *,
        stage: str | None,
        batch: str | None,
        sample: str | None = None,
        operation: str | None = None,
        deployment: str | None = None,
        observed: str | None = None,
        marker: str = "none",
        completeness: str = "complete",
    ) -> RecordEnvelope:
        observed = observed or day(1, 2)
        return RecordEnvelope(
            record_ref=f"record:{run_ref[4:]}.r{next(self._ids):05d}",
            record_type=kind,
            recorded_at=observed,
            observed_at=observed,
            producer_ref="tests",
            run_ref=run_ref,
            stage_execution_ref=stage,
            batch_execution_ref=batch,
            sample_observation_ref=sample,
            operation_context_ref=operation,
            deployment_execution_ref=deployment,
            completeness_marker=completeness,
            degradation_marker=marker,
        )

    def metric(
        self,
        run_ref: str,
        key: str,
        value: float | int,
        *,
        stage: str | None = None,
        batch: str | None = None,
        step: int | None = None,
        observed: str | None = None,
        tags: dict[str, str] | None = None,
        unit: str | None = None,
        sample: str | None = None,
        operation: str | None = None,
        deployment: str | None = None,
        marker: str = "none",
    ) -> str:
        value_type = "int" if isinstance(value, int) else "float64"
        envelope = self._envelope(
            run_ref,
            "metric",
            stage=stage,
            batch=batch,
            sample=sample,
            operation=operation,
            deployment=deployment,
            observed=observed,
            marker=marker,
        )
        self.target.append(
            MetricRecord(
                envelope=envelope,
                payload=MetricPayload(
                    metric_key=key,
                    value=value,
                    value_type=value_type,
                    step=step,
                    tags=tags,
                    unit=unit,
                ),
            )
        )
        return str(envelope.record_ref)

    def event(
        self,
        run_ref: str,
        key: str,
        *,
        message: str = "happened",
        level: str = "info",
        attributes: dict[str, Any] | None = None,
        stage: str | None = None,
        batch: str | None = None,
        observed: str | None = None,
    ) -> str:
        envelope = self._envelope(run_ref, "event", stage=stage, batch=batch, observed=observed)
        self.target.append(
            StructuredEventRecord(
                envelope=envelope,
                payload=StructuredEventPayload(
                    event_key=key, level=level, message=message, attributes=attributes
                ),
            )
        )
        return str(envelope.record_ref)

    def degraded(
        self,
        run_ref: str,
        key: str,
        *,
        severity: str = "warning",
        summary: str = "something degraded",
        attributes: dict[str, Any] | None = None,
        category: str = "verification",
        stage: str | None = None,
        batch: str | None = None,
        observed: str | None = None,
    ) -> str:
        envelope = self._envelope(
            run_ref,
            "degraded",
            stage=stage,
            batch=batch,
            observed=observed,
            marker="capture_gap",
            completeness="partial",
        )
        self.target.append(
            DegradedRecord(
                envelope=envelope,
                payload=DegradedPayload(
                    issue_key=key,
                    category=category,
                    severity=severity,
                    summary=summary,
                    attributes=attributes,
                ),
            )
        )
        return str(envelope.record_ref)

    def span(
        self, run_ref: str, name: str, *, started: str, ended: str, stage: str | None = None
    ) -> str:
        envelope = self._envelope(run_ref, "span", stage=stage, batch=None, observed=ended)
        self.target.append(
            TraceSpanRecord(
                envelope=envelope,
                payload=TraceSpanPayload(
                    span_id="s1",
                    trace_id="t1",
                    parent_span_id=None,
                    span_name=name,
                    started_at=started,
                    ended_at=ended,
                    status="ok",
                    span_kind="operation",
                ),
            )
        )
        return str(envelope.record_ref)
