"""Absolute expectations: limits that need no history.

Used two ways: explicitly (``scope.expect(frame, column=..., max_null_rate=...)``)
and through the absolute fields of ``QualityThresholds`` (``min_rows``,
``max_null_rate``, ``max_zero_rate``), which run on every profile, history or not.
Each violated limit is one ``dq.expectation_failed`` finding.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

from contexta.errors import ValidationError, truncate_value
from contexta.quality.models import ColumnProfile, Finding, FindingSeverity, FrameProfile
from contexta.quality.rules import ISSUE_EXPECTATION_FAILED
from contexta.quality.thresholds import QualityThresholds

__all__ = ["Expectation", "evaluate_expectation", "threshold_findings"]


def _reject(field_name: str, value: object, allowed: str) -> NoReturn:
    msg = f"{field_name}: {truncate_value(value)} is not allowed; expected {allowed}"
    raise ValidationError(msg, code="quality_invalid_expectation",
                          details={"field": field_name, "value": truncate_value(value),
                                   "allowed": allowed})


def _number(name: str, value: object, *, rate: bool = False, count: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        _reject(name, value, "a number or None")
    if not math.isfinite(value):
        _reject(name, value, "a finite number")
    if rate and not 0 <= value <= 1:
        _reject(name, value, "a rate in [0, 1]")
    if count and (not isinstance(value, int) or value < 0):
        _reject(name, value, "an int >= 0")


@dataclass(frozen=True, slots=True)
class Expectation:
    """Limits for one frame, optionally narrowed to one column.

    Without ``column``, the column limits apply to every column of the frame.
    """

    column: str | None = None
    max_null_rate: float | None = None
    max_zero_rate: float | None = None
    min_rows: int | None = None
    max_rows: int | None = None
    min_distinct: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    severity: FindingSeverity = "error"

    def __post_init__(self) -> None:
        if self.column is not None and (not isinstance(self.column, str) or not self.column):
            _reject("column", self.column, "a non-empty column name or None")
        _number("max_null_rate", self.max_null_rate, rate=True)
        _number("max_zero_rate", self.max_zero_rate, rate=True)
        _number("min_rows", self.min_rows, count=True)
        _number("max_rows", self.max_rows, count=True)
        _number("min_distinct", self.min_distinct, count=True)
        _number("min_value", self.min_value)
        _number("max_value", self.max_value)
        if self.severity not in ("warning", "error"):
            _reject("severity", self.severity, "'warning' or 'error'")


def _finding(expectation: str, limit: object, actual: object, summary: str, *,
             dataset: str | None, column: str | None, severity: FindingSeverity,
             source: str) -> Finding:
    return Finding(
        issue_key=ISSUE_EXPECTATION_FAILED,
        severity=severity,
        summary=summary,
        dataset=dataset,
        column=column,
        attributes={"dataset": dataset, "column": column, "expectation": expectation,
                    "limit": limit, "value": actual, "source": source},
    )


def _label(dataset: str | None, column: str | None) -> str:
    name = dataset or "frame"
    return f"{name}.{column}" if column else name


def _column_checks(column: ColumnProfile,
                   spec: Expectation) -> Iterator[tuple[str, object, object]]:
    if spec.max_null_rate is not None and column.null_rate is not None \
            and column.null_rate > spec.max_null_rate:
        yield "max_null_rate", spec.max_null_rate, column.null_rate
    if spec.max_zero_rate is not None and column.zero_rate is not None \
            and column.zero_rate > spec.max_zero_rate:
        yield "max_zero_rate", spec.max_zero_rate, column.zero_rate
    if spec.min_distinct is not None and column.distinct_count is not None \
            and column.distinct_count < spec.min_distinct:
        yield "min_distinct", spec.min_distinct, column.distinct_count
    low, high = column.min, column.max
    if spec.min_value is not None and isinstance(low, int | float) and low < spec.min_value:
        yield "min_value", spec.min_value, low
    if spec.max_value is not None and isinstance(high, int | float) and high > spec.max_value:
        yield "max_value", spec.max_value, high


def evaluate_expectation(profile: FrameProfile, spec: Expectation, *, dataset: str | None = None,
                         source: str = "expectation") -> tuple[Finding, ...]:
    """One finding per violated limit of ``spec`` (empty when everything holds)."""
    findings: list[Finding] = []
    label = _label(dataset, None)

    def add(expectation: str, limit: object, actual: object, summary: str,
            column: str | None) -> None:
        findings.append(_finding(expectation, limit, actual, summary, dataset=dataset,
                                 column=column, severity=spec.severity, source=source))

    rows = profile.row_count
    if spec.min_rows is not None and rows < spec.min_rows:
        add("min_rows", spec.min_rows, rows,
            f"{label} has {rows} rows, expected at least {spec.min_rows}", None)
    if spec.max_rows is not None and rows > spec.max_rows:
        add("max_rows", spec.max_rows, rows,
            f"{label} has {rows} rows, expected at most {spec.max_rows}", None)
    if spec.column is not None:
        column = profile.column(spec.column)
        if column is None:
            add("column_present", spec.column, None,
                f"{label} has no column {spec.column!r}", spec.column)
            return tuple(findings)
        columns: tuple[ColumnProfile, ...] = (column,)
    else:
        columns = profile.columns
    for column in columns:
        for name, limit, actual in _column_checks(column, spec):
            summary = (f"{_label(dataset, column.name)}: {name.replace('_', ' ')} expectation "
                       f"failed ({actual!r} against limit {limit!r})")
            add(name, limit, actual, summary, column.name)
    return tuple(findings)


def threshold_findings(profile: FrameProfile, thresholds: QualityThresholds, *,
                       dataset: str) -> tuple[Finding, ...]:
    """The absolute limits of ``thresholds`` (no history needed), as findings."""
    findings = list(evaluate_expectation(profile, Expectation(min_rows=thresholds.min_rows),
                                         dataset=dataset, source="thresholds"))
    for column in profile.columns:
        limits = thresholds.for_column(column.name)
        if limits.ignore or (limits.max_null_rate is None and limits.max_zero_rate is None):
            continue
        spec = Expectation(column=column.name, max_null_rate=limits.max_null_rate,
                           max_zero_rate=limits.max_zero_rate)
        findings += evaluate_expectation(profile, spec, dataset=dataset, source="thresholds")
    return tuple(findings)
