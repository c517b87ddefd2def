"""Capture integration: what ``scope.profile(...)`` and ``scope.expect(...)`` do.

The capture layer's stage and batch scopes call these two functions with
themselves as ``scope``. A scope provides ``ctx`` (the ``Contexta``), ``ref``
(its full ref text) and the emission methods ``emit_metrics(items)``,
``event(key, message=..., level=..., attributes=...)`` and
``degraded(issue_key, category=..., severity=..., summary=..., attributes=...)``.
This module never imports the capture layer (it sits below it).

Observability must not break the job: if history cannot be read or checked (store
busy or damaged, a bug in a rule), the profile is still recorded, the failure is
logged at WARNING and stored as a ``dq.profile_failed`` degraded record (category
``capture``) so diagnostics show that the night went unchecked; only bad arguments
raise, and a strict scope (``dispatch_failure_mode="raise"``, or ``strict=True``)
raises a ``ContextaError``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, NoReturn

from contexta.errors import CaptureError, ContextaError, ValidationError, truncate_value
from contexta.quality.deferred import DEFERRED_CHECKS
from contexta.quality.expectations import Expectation, evaluate_expectation, threshold_findings
from contexta.quality.history import ExtraFlags, VerdictFlags, load_baselines
from contexta.quality.models import ExpectationResult, Finding, FindingSeverity, FrameProfile
from contexta.quality.profiling import duplicate_column_renames, profile_frame
from contexta.quality.recording import (
    ProfileKeys,
    finding_evidence,
    metric_items,
    profile_keys,
    safe_text,
    schema_event,
    settings_record,
)
from contexta.quality.rules import evaluate_history
from contexta.quality.thresholds import ThresholdsLike, resolve_thresholds

__all__ = ["ISSUE_PROFILE_FAILED", "capture_expectation", "capture_profile"]

logger = logging.getLogger(__name__)

CATEGORY = "verification"
ISSUE_PROFILE_FAILED = "dq.profile_failed"
_MAX_NAME = 255
_MAX_SUMMARY = 10_000


def _reject(field_name: str, value: object, allowed: str) -> NoReturn:
    msg = f"{field_name}: {truncate_value(value)} is not allowed; expected {allowed}"
    raise ValidationError(msg, code="quality_invalid_argument",
                          details={"field": field_name, "value": truncate_value(value),
                                   "allowed": allowed})


def _dataset_name(name: object) -> str:
    allowed = "a non-blank dataset name of at most 255 characters without control characters"
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
        _reject("name", name, allowed)
    if any(ord(char) < 32 or ord(char) == 127 for char in name) or safe_text(name) != name:
        _reject("name", name, allowed)
    return name


def _scope_position(scope: Any) -> tuple[str, str | None, str | None]:
    """``(run_ref, stage component, batch component)`` of a capture scope."""
    text = str(scope.ref)
    kind, _, value = text.partition(":")
    parts = value.split(".")
    if kind == "run" and len(parts) >= 2:
        return text, None, None
    if kind in ("stage", "batch") and len(parts) >= 3:
        run_ref = f"run:{parts[0]}.{parts[1]}"
        return run_ref, parts[2], parts[3] if kind == "batch" and len(parts) > 3 else None
    _reject("scope", text, "a run, stage or batch scope")


def _emit(scope: Any, findings: Sequence[Finding], keys: ProfileKeys, stage: str | None,
          batch: str | None) -> tuple[Finding, ...]:
    """Record each finding as a degraded record; returns them with the stored evidence."""
    recorded = []
    for finding in findings:
        attributes = finding_evidence(finding, keys, stage, batch)
        scope.degraded(
            finding.issue_key,
            category=CATEGORY,
            severity=finding.severity,
            summary=safe_text(finding.summary, _MAX_SUMMARY),
            attributes=attributes,
        )
        recorded.append(replace(finding, attributes=attributes))
    return tuple(recorded)


def _check_history_runs(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 1000:
        _reject("history_runs", value, "an int from 1 to 1000")
    return value


def capture_profile(scope: Any, frame: object, *, name: str, thresholds: ThresholdsLike = None,
                    history_runs: int = 7, columns: Sequence[str] | None = None,
                    checks: bool = True) -> FrameProfile:
    """Profile ``frame`` into ``scope`` and check it against the dataset's history.

    Records one metric per statistic (one ``emit_metrics`` call), one schema
    event, then one degraded record (category ``verification``) per finding:
    absolute limits from ``thresholds`` always, history rules when earlier
    completed runs profiled the same dataset in a stage of the same name (runs
    with findings for it are left out). When the checks ran, the schema event
    says so (``checked_by``), and diagnostics does not compare it again. When
    they fail, the profile is still recorded, with a ``dq.profile_failed``
    degraded record (category ``capture``) instead of findings; a strict scope
    raises ``CaptureError`` (``quality_profile_failed``) after recording it.

    Args:
        scope: a capture stage or batch scope (a run scope also works).
        frame: pandas/polars/pyarrow frame, or an already computed ``FrameProfile``.
        name: dataset name; keys use its slug, tags and attributes the exact text.
        thresholds: ``QualityThresholds`` or a mapping of its fields.
        history_runs: how many earlier runs form the baseline.
        columns: profile only these columns.
        checks: run the history rules now; ``False`` records the profile with these
            settings and diagnostics run the same rules when they read it.

    Returns:
        The profile, with ``findings`` set to what was recorded. Columns sharing a
        name are profiled as ``name (2)``, ... (``profile_frame``); the schema event
        lists them under ``renamed_columns`` (``{profiled name: column name}``).
    """
    dataset = _dataset_name(name)
    limits = resolve_thresholds(thresholds)
    runs = _check_history_runs(history_runs)
    if not isinstance(checks, bool):
        _reject("checks", checks, "a bool")
    run_ref, stage, batch = _scope_position(scope)
    renamed: dict[str, str] = {}
    if isinstance(frame, FrameProfile):
        profile = frame
    else:
        profile = profile_frame(frame, columns=columns)
        renamed = {new: old for new, old in duplicate_column_renames(frame).items()
                   if new in profile.column_names}
    keys = profile_keys(profile, dataset)
    findings: list[Finding] = []
    failure: Exception | None = None
    try:
        findings += threshold_findings(profile, limits, dataset=dataset)
        if checks:
            baselines = load_baselines(scope.ctx, run_ref=run_ref, stage=stage, batch=batch,
                                       dataset=dataset, history_runs=runs,
                                       verdicts=_read_time_verdicts(scope.ctx))
            findings += evaluate_history(profile, baselines.runs, limits, dataset=dataset,
                                         latest=baselines.latest)
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # never break the host job (module docstring)
        failure = exc
    scope.emit_metrics(metric_items(profile, dataset))
    checked = checks and failure is None
    # Unchecked profiles are judged when read (contexta.quality.deferred), with these settings.
    event_key, message, attributes = schema_event(
        profile, dataset, checked=checked,
        deferred=None if checked else settings_record(limits, runs))
    if renamed:
        # Duplicate column names were profiled as ``name (2)``, ...: the schema says so.
        attributes = {**attributes, "renamed_columns": renamed}
        message = (f"{message}; duplicate column names profiled as "
                   f"{', '.join(f'{new!r}' for new in renamed)}")
    scope.event(event_key, message=message, level="info", attributes=attributes)
    if failure is not None:
        _record_failure(scope, failure, dataset, stage, batch)
    return replace(profile, findings=_emit(scope, findings, keys, stage, batch))


def _read_time_verdicts(ctx: Any) -> VerdictFlags:
    """Read-time verdicts on earlier runs recorded unchecked, from the memo diagnostics use.

    Capture leaves a run out of the baseline when those verdicts flagged the dataset,
    as read-time checks do, so both judge a night the same whichever way earlier nights
    were recorded.
    """
    def verdicts(run_refs: Sequence[str]) -> ExtraFlags:
        return DEFERRED_CHECKS.flags(ctx.metadata_store, ctx.record_store, run_refs)

    return verdicts


def _is_strict(scope: Any) -> bool:
    return bool(getattr(scope, "_strict", False))


def _record_failure(scope: Any, exc: Exception, dataset: str, stage: str | None,
                    batch: str | None) -> None:
    """Log and record that the checks of ``dataset`` could not run (strict: raise)."""
    text = safe_text(f"{type(exc).__name__}: {exc}", 500)
    logger.warning("data-quality checks of %r skipped, the profile is still recorded: %s",
                   dataset, text, exc_info=exc)
    if _is_strict(scope):
        if isinstance(exc, ContextaError):
            raise exc
        msg = f"profile: the data-quality checks of {dataset!r} failed ({text})"
        raise CaptureError(msg, code="quality_profile_failed",
                           details={"dataset": dataset, "error_type": type(exc).__name__},
                           cause=exc) from exc
    try:
        scope.degraded(
            ISSUE_PROFILE_FAILED,
            category="capture",
            severity="warning",
            summary=safe_text(f"data-quality checks of {dataset!r} did not run: {text}",
                              _MAX_SUMMARY),
            attributes={"dataset": dataset, "stage_name": stage, "batch_name": batch,
                        "error_type": type(exc).__name__, "error": text},
        )
    except ContextaError:
        logger.warning("could not record that the checks of %r failed", dataset, exc_info=True)


def capture_expectation(
    scope: Any,
    frame_or_profile: object,
    *,
    column: str | None = None,
    max_null_rate: float | None = None,
    min_rows: int | None = None,
    max_zero_rate: float | None = None,
    max_rows: int | None = None,
    min_distinct: int | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    severity: FindingSeverity = "error",
    name: str | None = None,
) -> ExpectationResult:
    """Check explicit limits; record one ``dq.expectation_failed`` degraded record per
    violated limit. A missing ``column`` is itself a failure, not an exception.
    """
    dataset = None if name is None else _dataset_name(name)
    spec = Expectation(column=column, max_null_rate=max_null_rate, max_zero_rate=max_zero_rate,
                       min_rows=min_rows, max_rows=max_rows, min_distinct=min_distinct,
                       min_value=min_value, max_value=max_value, severity=severity)
    limits = (max_null_rate, max_zero_rate, min_rows, max_rows, min_distinct, min_value, max_value)
    if all(limit is None for limit in limits):
        _reject("expectation", "no limits", "at least one of max_null_rate, min_rows, "
                "max_zero_rate, max_rows, min_distinct, min_value, max_value")
    _, stage, batch = _scope_position(scope)
    profile = _profile_for(frame_or_profile, column)
    findings = evaluate_expectation(profile, spec, dataset=dataset)
    recorded = _emit(scope, findings, profile_keys(profile, dataset or "frame"), stage, batch)
    return ExpectationResult(profile=profile, failures=recorded)


def _profile_for(frame_or_profile: object, column: str | None) -> FrameProfile:
    if isinstance(frame_or_profile, FrameProfile):
        return frame_or_profile
    if column is None:
        return profile_frame(frame_or_profile)
    try:
        return profile_frame(frame_or_profile, columns=[column])
    except ValidationError as exc:
        if exc.code != "quality_unknown_column":
            raise
        return profile_frame(frame_or_profile, columns=[])
