"""Validation reports: re-check models without raising (contract.md §3.9).

Constructors already validate; these functions serve models built by other code (for
example with ``object.__setattr__`` or an old pickle) and add the registry check for
extension namespaces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contexta.contract._base import ContractModel
from contexta.contract.artifact_models import ArtifactManifest, LineageEdge, ProvenanceRecord
from contexta.contract.context_models import (
    BatchExecution,
    DeploymentExecution,
    EnvironmentSnapshot,
    OperationContext,
    Project,
    Run,
    SampleObservation,
    StageExecution,
)
from contexta.contract.enums import VALIDATION_SEVERITIES
from contexta.contract.extensions import ExtensionFieldSet, ExtensionRegistry
from contexta.contract.record_models import (
    DegradedRecord,
    MetricRecord,
    RecordEnvelope,
    StructuredEventRecord,
    TraceSpanRecord,
)
from contexta.errors import ContextaError, ContractError, truncate_value

__all__ = [
    "VALIDATION_SEVERITIES",
    "ValidationIssue",
    "ValidationReport",
    "validate_artifact_manifest",
    "validate_batch_execution",
    "validate_degraded_record",
    "validate_deployment_execution",
    "validate_environment_snapshot",
    "validate_extension_field_set",
    "validate_lineage_edge",
    "validate_metric_record",
    "validate_model",
    "validate_operation_context",
    "validate_project",
    "validate_provenance_record",
    "validate_record_envelope",
    "validate_run",
    "validate_sample_observation",
    "validate_stage_execution",
    "validate_structured_event_record",
    "validate_trace_span_record",
]


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One finding: stable ``code``, dotted ``path`` of the field, readable ``message``."""

    code: str
    path: str
    message: str
    severity: str = "error"

    def __post_init__(self) -> None:
        if type(self.severity) is not str or self.severity not in VALIDATION_SEVERITIES:
            shown = truncate_value(self.severity)
            allowed = ", ".join(VALIDATION_SEVERITIES)
            message = f"invalid severity: got {shown}; allowed: {allowed}"
            raise ContractError(
                message,
                code="context_invalid_status",
                details={"field": "severity", "value": shown, "allowed": allowed},
            )

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def with_prefix(self, prefix: str) -> ValidationIssue:
        path = f"{prefix}.{self.path}" if self.path else prefix
        return dataclasses.replace(self, path=path)

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """All findings for one value; ``valid`` is False when any finding is an error."""

    valid: bool
    issues: tuple[ValidationIssue, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "issues", tuple(self.issues))

    @property
    def errors(self) -> tuple[ValidationIssue, ...]:
        return tuple(issue for issue in self.issues if issue.is_error)

    @property
    def warnings(self) -> tuple[ValidationIssue, ...]:
        return tuple(issue for issue in self.issues if not issue.is_error)

    @classmethod
    def ok(cls) -> ValidationReport:
        return cls(True, ())

    @classmethod
    def from_issues(cls, issues: Iterable[ValidationIssue]) -> ValidationReport:
        items = tuple(issues)
        return cls(not any(issue.is_error for issue in items), items)

    @classmethod
    def merge(cls, *reports: ValidationReport) -> ValidationReport:
        return cls.from_issues(issue for report in reports for issue in report.issues)

    def prefixed(self, prefix: str) -> ValidationReport:
        return ValidationReport(self.valid, tuple(i.with_prefix(prefix) for i in self.issues))

    def raise_for_errors(self) -> None:
        """Raise a ``ValidationError`` (a ``ContractError``) for the first error, if any."""
        errors = self.errors
        if not errors:
            return
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = f"{first.path or 'value'}: {first.message}{more}"
        raise ContractError(
            message,
            code=first.code,
            details={
                "field": first.path,
                "value": None,
                "allowed": "see issues",
                "issues": [issue.to_dict() for issue in errors],
            },
        )

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "issues": [issue.to_dict() for issue in self.issues]}


def _rebuild(value: ContractModel) -> ContractModel:
    """Construct ``value`` again from its fields so every check runs."""
    kwargs: dict[str, Any] = {}
    for name in type(value)._field_names:  # type: ignore[attr-defined]
        item = value.__getattribute__(name)
        if isinstance(item, ContractModel):
            item = _rebuild(item)
        elif type(item) is tuple and item and isinstance(item[0], ContractModel):
            item = tuple(_rebuild(entry) if isinstance(entry, ContractModel) else entry
                         for entry in item)  # fmt: skip
        kwargs[name] = item
    return type(value)(**kwargs)


def _registry_issues(
    value: ContractModel, registry: ExtensionRegistry, path: str
) -> list[ValidationIssue]:
    issues = []
    model_name = type(value).__name__
    for index, ext in enumerate(getattr(value, "extensions", ())):
        namespace = getattr(ext, "namespace", None)
        if not isinstance(namespace, str) or not registry.is_registered(namespace, model_name):
            where = f"{path}extensions[{index}].namespace"
            message = f"extension namespace {namespace!r} is not registered for {model_name}"
            issues.append(ValidationIssue("extension_unregistered_namespace", where, message))
    for name in type(value)._field_names:  # type: ignore[attr-defined]
        item = value.__getattribute__(name)
        if isinstance(item, ContractModel) and hasattr(item, "extensions"):
            issues.extend(_registry_issues(item, registry, f"{path}{name}."))
    return issues


def validate_model(
    value: object, *, registry: ExtensionRegistry | None = None, expected: type | None = None
) -> ValidationReport:
    """Check any contract model; never raises for a bad model."""
    if expected is not None and type(value) is not expected:
        message = f"expected a {expected.__name__}, got {type(value).__name__}"
        return ValidationReport.from_issues([ValidationIssue("contract_error", "", message)])
    if not isinstance(value, ContractModel):
        message = f"not a contract model: {truncate_value(value)}"
        return ValidationReport.from_issues([ValidationIssue("contract_error", "", message)])
    issues: list[ValidationIssue] = []
    try:
        _rebuild(value)
    except ContextaError as err:
        path = str((err.details or {}).get("field", ""))
        issues.append(ValidationIssue(err.code, path, err.message))
    except Exception as err:  # a corrupted instance must be reported, not raised
        issues.append(ValidationIssue("contract_error", "", f"{type(err).__name__}: {err}"))
    if registry is not None:
        if not isinstance(registry, ExtensionRegistry):
            message = "registry must be an ExtensionRegistry"
            issues.append(ValidationIssue("extension_unregistered_namespace", "", message))
        else:
            try:
                issues.extend(_registry_issues(value, registry, ""))
            except Exception as err:
                message = f"{type(err).__name__}: {err}"
                issues.append(ValidationIssue("contract_error", "extensions", message))
    return ValidationReport.from_issues(issues)


def _validator(cls: type) -> Any:
    def validate(value: object, *, registry: ExtensionRegistry | None = None) -> ValidationReport:
        return validate_model(value, registry=registry, expected=cls)

    validate.__doc__ = f"Re-check a ``{cls.__name__}``; returns a report, never raises."
    return validate


validate_project = _validator(Project)
validate_run = _validator(Run)
validate_deployment_execution = _validator(DeploymentExecution)
validate_stage_execution = _validator(StageExecution)
validate_batch_execution = _validator(BatchExecution)
validate_sample_observation = _validator(SampleObservation)
validate_operation_context = _validator(OperationContext)
validate_environment_snapshot = _validator(EnvironmentSnapshot)
validate_record_envelope = _validator(RecordEnvelope)
validate_structured_event_record = _validator(StructuredEventRecord)
validate_metric_record = _validator(MetricRecord)
validate_trace_span_record = _validator(TraceSpanRecord)
validate_degraded_record = _validator(DegradedRecord)
validate_artifact_manifest = _validator(ArtifactManifest)
validate_lineage_edge = _validator(LineageEdge)
validate_provenance_record = _validator(ProvenanceRecord)
validate_extension_field_set = _validator(ExtensionFieldSet)
