"""Operational sections: recovery, retention, security (contract §9.6).

Retention and encryption settings that this release cannot honour are refused
with their own error codes instead of being silently ignored: a user who asks
for enforced retention or encryption must not believe they got it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, get_args

from contexta.config import _specs as s

__all__ = [
    "RecoveryConfig",
    "RetentionConfig",
    "SecurityConfig",
    "RedactionMode",
    "ReplayModeName",
    "RetentionMode",
]

ReplayModeName = Literal["strict", "tolerant"]
RetentionMode = Literal["manual", "planned"]
# "enforced" passes the value check so that construction can refuse it with
# its own code (retention_unsupported) rather than as a generic bad value.
_RETENTION_MODE_INPUTS = (*get_args(RetentionMode), "enforced")
RedactionMode = Literal["safe_default", "strict", "off"]


@dataclass(frozen=True, slots=True)
class RecoveryConfig:
    """Outbox, backup and restore locations (contract §8.5, §11).

    Attributes:
        outbox_root: spool of captures not yet stored; ``None`` means
            ``<workspace.cache_path>/outbox``.
        backup_root: where backups go; ``None`` means ``<root>-backups``, a
            sibling of the workspace root, so a restore never deletes its backups.
        restore_staging_root: scratch space of a restore; ``None`` means
            ``<backup_root>/.staging``, outside the workspace being replaced.
        replay_mode_default: ``strict`` or ``tolerant``, the default mode of
            record replay and ``recover replay``.
        require_plan_before_apply: compatibility only, no effect
            (``restore_workspace`` always takes a plan).
        create_backup_before_restore: compatibility only, no effect (a safety
            copy is always made before replacing a non-empty workspace).
    """

    _section: ClassVar[str] = "recovery"

    outbox_root: Path | None = field(default=None, metadata=s.path())
    backup_root: Path | None = field(default=None, metadata=s.path())
    restore_staging_root: Path | None = field(default=None, metadata=s.path())
    replay_mode_default: ReplayModeName = field(
        default="tolerant", metadata=s.choice(get_args(ReplayModeName))
    )
    require_plan_before_apply: bool = field(default=True, metadata=s.flag())
    create_backup_before_restore: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    """Retention settings; no automatic deletion exists in this release.

    Attributes:
        cache_ttl_days: compatibility only, no effect (>= 0 or null).
        report_ttl_days: compatibility only, no effect (>= 0 or null).
        export_ttl_days: compatibility only, no effect (>= 0 or null).
        artifact_retention_mode: ``manual`` or ``planned``; compatibility only, no
            effect. ``enforced`` raises ``ConfigurationError``
            (``retention_unsupported``).
        records_compaction_enabled: compatibility only, no effect; ``True`` raises
            ``ConfigurationError`` (``retention_unsupported``).
    """

    _section: ClassVar[str] = "retention"

    cache_ttl_days: int | None = field(default=7, metadata=s.optional_integer(ge=0))
    report_ttl_days: int | None = field(default=None, metadata=s.optional_integer(ge=0))
    export_ttl_days: int | None = field(default=None, metadata=s.optional_integer(ge=0))
    artifact_retention_mode: RetentionMode = field(
        default="manual", metadata=s.choice(_RETENTION_MODE_INPUTS)
    )
    records_compaction_enabled: bool = field(default=False, metadata=s.flag())

    def __post_init__(self) -> None:
        mode: object = self.artifact_retention_mode
        if mode == "enforced":
            err = s.config_error(
                "retention.artifact_retention_mode",
                "enforced",
                "'manual' or 'planned'",
                code="retention_unsupported",
                reason="enforced retention is not implemented in this release",
            )
            raise err
        s.validate_fields(self)
        if self.records_compaction_enabled:
            err = s.config_error(
                "retention.records_compaction_enabled",
                True,
                "false",
                code="retention_unsupported",
                reason="record compaction is not implemented in this release",
            )
            raise err


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    """Redaction of captured data (contract §8.7).

    Attributes:
        redaction_mode: ``safe_default`` (secret-looking values replaced by
            ``[REDACTED]``), ``strict`` (only allowlisted environment variables
            captured) or ``off``.
        environment_variable_allowlist: environment variable names always
            captured verbatim.
        secret_key_patterns: case-insensitive substrings that make a name
            secret-looking.
        allow_unredacted_local_exports: compatibility only, no effect (exports
            contain stored data, which is already redacted).
        encryption_provider: must be null; any other value raises
            ``ConfigurationError`` (``security_encryption_unsupported``) because
            there is no encryption.
    """

    _section: ClassVar[str] = "security"

    redaction_mode: RedactionMode = field(
        default="safe_default", metadata=s.choice(get_args(RedactionMode))
    )
    environment_variable_allowlist: tuple[str, ...] = field(default=(), metadata=s.strings())
    secret_key_patterns: tuple[str, ...] = field(
        default=("token", "secret", "password", "passwd", "key"), metadata=s.strings()
    )
    allow_unredacted_local_exports: bool = field(default=False, metadata=s.flag())
    encryption_provider: str | None = field(default=None, metadata=s.optional_text())

    def __post_init__(self) -> None:
        if self.encryption_provider is not None:
            err = s.config_error(
                "security.encryption_provider",
                self.encryption_provider,
                "null",
                code="security_encryption_unsupported",
                reason="this release has no encryption and will not pretend to encrypt",
            )
            raise err
        s.validate_fields(self)
