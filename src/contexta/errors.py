"""The one error hierarchy of contexta (contract.md §12).

Every failure a user can see is a ``ContextaError`` with a stable ``code``, a
``details`` mapping that carries the evidence (field, value, what is allowed),
and a ``retryable`` flag. Role classes also subclass the matching builtin
(``ValueError``, ``LookupError``, ``OSError``, ``ImportError``) so existing
``except`` clauses keep working. Every class pickles, because errors cross
process boundaries (worker pools, spawn-based tests).

Tree::

    ContextaError
    ├── ConfigurationError (ValueError)
    ├── ValidationError (ValueError)
    │   └── ContractError
    ├── SerializationError (ValueError)
    ├── CompatibilityError
    ├── LifecycleError
    │   └── ClosedScopeError
    ├── CaptureError, DispatchError
    ├── MetadataError, RecordError (AppendError, RecordReplayError), ArtifactError
    ├── InterpretationError (ComparisonError, DiagnosticsError, ...)
    ├── RecoveryError (BackupError, RestoreError, ReplayError)
    ├── SurfaceError
    ├── ConflictError
    ├── NotFoundError (LookupError)
    ├── StoreAccessError (OSError)
    ├── ReadOnlyStoreError
    ├── IntegrityError, SchemaVersionError, MigrationError
    ├── RenderingError
    └── DependencyError (ImportError)
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "AggregationError",
    "AlertError",
    "AnomalyError",
    "AppendError",
    "ArtifactError",
    "BackupError",
    "CaptureError",
    "ClosedScopeError",
    "CompatibilityError",
    "ComparisonError",
    "ConfigurationError",
    "ConflictError",
    "ContextaError",
    "ContractError",
    "DependencyError",
    "DiagnosticsError",
    "DispatchError",
    "IntegrityError",
    "InterpretationError",
    "LifecycleError",
    "LineageError",
    "MetadataError",
    "MigrationError",
    "NotFoundError",
    "ProvenanceError",
    "ReadOnlyStoreError",
    "RecordError",
    "RecordReplayError",
    "RecoveryError",
    "RenderingError",
    "ReplayError",
    "ReportError",
    "ReportSerializationError",
    "RestoreError",
    "SchemaVersionError",
    "SerializationError",
    "StoreAccessError",
    "SurfaceError",
    "TrendError",
    "ValidationError",
    "truncate_value",
]

_MAX_VALUE_CHARS = 200


def truncate_value(value: object, limit: int = _MAX_VALUE_CHARS) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for messages and details."""
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not hide the real error
        text = f"<unrepresentable {type(value).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _freeze(details: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if details is None:
        return None
    return MappingProxyType(dict(details))


class ContextaError(Exception):
    """Root of every error raised by contexta.

    ``str(err)`` is the message; ``code`` is stable and safe to branch on.
    """

    default_code = "contexta_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        retryable: bool = False,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = _freeze(details)
        self.retryable = retryable
        self.cause = cause
        if cause is not None:
            self.__cause__ = cause

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments do not survive the default
        # BaseException pickling, so rebuild through a helper.
        details = dict(self.details) if self.details is not None else None
        return (
            _rebuild_error,
            (type(self), self.message, self.code, details, self.retryable),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping used by the CLI and the HTTP error bodies."""
        return {
            "code": self.code,
            "message": self.message,
            "details": dict(self.details) if self.details is not None else None,
            "retryable": self.retryable,
        }


def _rebuild_error(
    cls: type[ContextaError],
    message: str,
    code: str,
    details: dict[str, Any] | None,
    retryable: bool,
) -> ContextaError:
    err = cls.__new__(cls)
    ContextaError.__init__(err, message, code=code, details=details, retryable=retryable)
    return err


class ConfigurationError(ContextaError, ValueError):
    """Bad or conflicting configuration."""

    default_code = "config_invalid_value"


class ValidationError(ContextaError, ValueError):
    """Invalid arguments anywhere."""

    default_code = "validation_error"


class ContractError(ValidationError):
    """Invalid model values, refs, timestamps or keys (also a ``ValidationError``)."""

    default_code = "contract_error"


class SerializationError(ContextaError, ValueError):
    """Unreadable or invalid serialized data."""

    default_code = "deserialize_invalid_payload"


class CompatibilityError(ContextaError):
    """Unsupported formats from other versions."""

    default_code = "compatibility_error"


class LifecycleError(ContextaError):
    """Illegal scope or status transitions."""

    default_code = "lifecycle_error"


class ClosedScopeError(LifecycleError):
    """Use of a closed capture scope."""

    default_code = "runtime_scope_closed"


class CaptureError(ContextaError):
    """Capture infrastructure failures (contract.md §8.5)."""

    default_code = "capture_dispatch_failed"


class DispatchError(ContextaError):
    """Sink dispatch failures."""

    default_code = "capture_dispatch_failed"


class MetadataError(ContextaError):
    """Metadata-plane failures."""

    default_code = "metadata_error"


class RecordError(ContextaError):
    """Record-plane failures."""

    default_code = "record_error"


class AppendError(RecordError):
    """A record could not be appended."""

    default_code = "record_append_invalid"


class RecordReplayError(RecordError):
    """Strict replay met an unhealthy record store (``contexta.store.records.ReplayError``)."""

    default_code = "record_replay_unhealthy_store"


class ArtifactError(ContextaError):
    """Artifact-plane failures."""

    default_code = "artifact_error"


class InterpretationError(ContextaError):
    """Query and analysis failures."""

    default_code = "interpretation_error"


class ComparisonError(InterpretationError):
    default_code = "comparison_error"


class DiagnosticsError(InterpretationError):
    default_code = "diagnostics_error"


class LineageError(InterpretationError):
    default_code = "lineage_error"


class TrendError(InterpretationError):
    default_code = "trend_error"


class AlertError(InterpretationError):
    default_code = "alert_invalid_rule"


class AnomalyError(InterpretationError):
    default_code = "anomaly_invalid_policy"


class AggregationError(InterpretationError):
    default_code = "aggregation_error"


class ProvenanceError(InterpretationError):
    default_code = "provenance_error"


class ReportError(InterpretationError):
    default_code = "report_error"


class ReportSerializationError(ReportError):
    default_code = "report_serialization_error"


class RecoveryError(ContextaError):
    """Backup, restore and replay failures."""

    default_code = "recovery_error"


class BackupError(RecoveryError):
    default_code = "backup_failed"


class RestoreError(RecoveryError):
    default_code = "restore_failed"


class ReplayError(RecoveryError):
    """Outbox replay failures (``contexta.recovery.ReplayError``)."""

    default_code = "outbox_replay_failed"


class SurfaceError(ContextaError):
    """CLI/HTTP/UI failures."""

    default_code = "surface_error"


class ConflictError(ContextaError):
    """A ref already bound to different content, or an ambiguous identifier."""

    default_code = "conflict"


class NotFoundError(ContextaError, LookupError):
    """Unknown run, stage, batch, artifact, row or parent."""

    default_code = "not_found"


class StoreAccessError(ContextaError, OSError):
    """I/O, database, lock timeout, disk full, missing workspace."""

    default_code = "store_io_error"

    def __str__(self) -> str:  # OSError.__str__ would print errno formatting
        return self.message


class ReadOnlyStoreError(ContextaError):
    """A write to a store opened read-only."""

    default_code = "store_read_only"


class IntegrityError(ContextaError):
    default_code = "integrity_error"


class SchemaVersionError(ContextaError):
    default_code = "schema_version_unsupported"


class MigrationError(ContextaError):
    default_code = "migration_failed"


class RenderingError(ContextaError):
    default_code = "rendering_error"


class DependencyError(ContextaError, ImportError):
    """A missing optional dependency; the message names the extra to install."""

    default_code = "dependency_missing"

    def __str__(self) -> str:
        return self.message
