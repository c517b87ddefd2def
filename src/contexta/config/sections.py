"""Workspace, contract and capture sections of the configuration (contract §9.4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, get_args

from contexta.config import _specs as s

__all__ = [
    "CaptureConfig",
    "ContractConfig",
    "WorkspaceConfig",
    "ContractMode",
    "DispatchFailureMode",
    "SchemaVersion",
]

SchemaVersion = Literal["1.0.0"]
ContractMode = Literal["strict", "lenient"]
DispatchFailureMode = Literal["outbox", "raise"]

#: Sub-directories of the workspace root used when a derived path is not set.
DERIVED_WORKSPACE_DIRS: dict[str, str] = {
    "metadata_path": "metadata",
    "records_path": "records",
    "artifacts_path": "artifacts",
    "exports_path": "exports",
    "cache_path": "cache",
    "reports_path": "reports",
}


@dataclass(frozen=True, slots=True)
class WorkspaceConfig:
    """Where a workspace lives on disk.

    A relative ``root_path`` is resolved against the current directory when the
    config is constructed. Derived paths left ``None`` follow the root
    (``<root>/metadata`` and so on) and are stored as absolute paths; a path
    given explicitly wins.

    Attributes:
        root_path: workspace root; made absolute.
        metadata_path: home of the embedded metadata database (``<root>/metadata``).
        records_path: directory for record-plane auxiliary files such as write
            spools (``<root>/records``).
        artifacts_path: home of artifact bodies and bindings (``<root>/artifacts``).
        exports_path: default ``export_root`` of ``export_artifact`` (``<root>/exports``).
        cache_path: temporary files; parent of the default outbox (``<root>/cache``).
        reports_path: compatibility only, no effect in this release (``<root>/reports``).
        create_missing_dirs: when false, a missing root raises ``StoreAccessError``
            (``store_missing``) instead of being created.
    """

    _section: ClassVar[str] = "workspace"

    root_path: Path = field(default=Path(".contexta"), metadata=s.path(optional=False))
    metadata_path: Path | None = field(default=None, metadata=s.path())
    records_path: Path | None = field(default=None, metadata=s.path())
    artifacts_path: Path | None = field(default=None, metadata=s.path())
    exports_path: Path | None = field(default=None, metadata=s.path())
    cache_path: Path | None = field(default=None, metadata=s.path())
    reports_path: Path | None = field(default=None, metadata=s.path())
    create_missing_dirs: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)
        for name, sub in DERIVED_WORKSPACE_DIRS.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, self.root_path / sub)


@dataclass(frozen=True, slots=True)
class ContractConfig:
    """Contract model policy.

    Attributes:
        schema_version: schema version stamped on captured models; only ``"1.0.0"``.
        validation_mode: ``strict`` or ``lenient``; compatibility only, no effect
            (validation is always strict).
        compatibility_mode: ``strict`` or ``lenient``; compatibility only, no effect.
        deterministic_serialization: compatibility only, no effect (serialization
            is always deterministic).
    """

    _section: ClassVar[str] = "contract"

    schema_version: SchemaVersion = field(
        default="1.0.0", metadata=s.choice(get_args(SchemaVersion))
    )
    validation_mode: ContractMode = field(
        default="strict", metadata=s.choice(get_args(ContractMode))
    )
    compatibility_mode: ContractMode = field(
        default="strict", metadata=s.choice(get_args(ContractMode))
    )
    deterministic_serialization: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class CaptureConfig:
    """How the capture runtime records and delivers data (contract §8).

    Attributes:
        producer_ref: envelope ``producer_ref`` of captured records (key rule).
        capture_environment_snapshot: store an ``EnvironmentSnapshot`` at run start.
        capture_installed_packages: include installed distributions in the snapshot.
        capture_code_revision: detect the git commit and dirty flag.
        capture_config_snapshot: persist the ``config_snapshot`` passed to ``run()``.
        retry_attempts: retries per failing sink (>= 0).
        retry_backoff_seconds: first retry backoff, doubled per retry (>= 0).
        dispatch_failure_mode: ``outbox`` (spool and keep running) or ``raise``
            when the store write fails.
        write_degraded_marker_on_partial_failure: leave a ``DegradedRecord`` for
            every degraded capture.
    """

    _section: ClassVar[str] = "capture"

    producer_ref: str = field(default="sdk.python.local", metadata=s.text(rule="key"))
    capture_environment_snapshot: bool = field(default=True, metadata=s.flag())
    capture_installed_packages: bool = field(default=True, metadata=s.flag())
    capture_code_revision: bool = field(default=True, metadata=s.flag())
    capture_config_snapshot: bool = field(default=True, metadata=s.flag())
    retry_attempts: int = field(default=0, metadata=s.integer(ge=0))
    retry_backoff_seconds: float = field(default=0.0, metadata=s.number(ge=0))
    dispatch_failure_mode: DispatchFailureMode = field(
        default="outbox", metadata=s.choice(get_args(DispatchFailureMode))
    )
    write_degraded_marker_on_partial_failure: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)
