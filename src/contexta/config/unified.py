"""``UnifiedConfig``: the whole configuration, with every store path made concrete."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, get_args

from contexta.config import _specs as s
from contexta.config.interpretation import InterpretationConfig
from contexta.config.operations import RecoveryConfig, RetentionConfig, SecurityConfig
from contexta.config.sections import CaptureConfig, ContractConfig, WorkspaceConfig
from contexta.config.stores import ArtifactStoreConfig, MetadataStoreConfig, RecordStoreConfig
from contexta.config.surfaces import SurfaceConfig

__all__ = [
    "DATABASE_FILE_NAME",
    "PROFILE_NAMES",
    "PROFILE_OVERLAY_NAMES",
    "ConfigVersion",
    "ProfileName",
    "ProfileOverlayName",
    "UnifiedConfig",
    "default_backup_root",
]

ProfileName = Literal["local", "test"]
ProfileOverlayName = Literal["debug", "forensic", "ci", "readonly"]
PROFILE_NAMES: tuple[str, ...] = get_args(ProfileName)
PROFILE_OVERLAY_NAMES: tuple[str, ...] = get_args(ProfileOverlayName)
ConfigVersion = Literal["1"]

#: File name of the embedded metadata database inside ``workspace.metadata_path``.
DATABASE_FILE_NAME = "contexta.sqlite3"


def default_backup_root(root: Path) -> Path:
    """``<root>-backups``: a sibling of the workspace, so restore cannot delete it."""
    # A filesystem root has no name (and no sibling); fall back to a fixed name.
    return root.parent / f"{root.name or 'contexta'}-backups"


@dataclass(frozen=True, slots=True)
class UnifiedConfig:
    """The complete, resolved configuration of one Contexta instance.

    Build it with keywords (every section defaults to its own defaults) or with
    ``load_config``. After construction every store-facing path is concrete:
    unset plane paths follow ``workspace`` (database in
    ``<metadata_path>/contexta.sqlite3``, records in ``records_path``, artifacts in
    ``artifacts_path``, outbox in ``<cache_path>/outbox``, backups in
    ``<root>-backups``, restore staging in ``<backup_root>/.staging``). To move a
    config to another root use ``replace_unified_config``, which re-derives the
    paths that were not set explicitly; ``dataclasses.replace`` keeps them.

    Attributes:
        config_version: must be ``"1"``.
        profile_name: ``local`` or ``test``; records the profile, selects nothing by itself.
        project_name: project used by capture; a non-blank display name.
        workspace: ``WorkspaceConfig``.
        contract: ``ContractConfig``.
        capture: ``CaptureConfig``.
        metadata: ``MetadataStoreConfig``.
        records: ``RecordStoreConfig``.
        artifacts: ``ArtifactStoreConfig``.
        interpretation: ``InterpretationConfig``.
        recovery: ``RecoveryConfig``.
        surfaces: ``SurfaceConfig``.
        retention: ``RetentionConfig``.
        security: ``SecurityConfig``.
    """

    _section: ClassVar[str] = ""

    config_version: ConfigVersion = field(default="1", metadata=s.choice(get_args(ConfigVersion)))
    profile_name: ProfileName = field(default="local", metadata=s.choice(PROFILE_NAMES))
    project_name: str = field(default="default", metadata=s.text(rule="name"))
    workspace: WorkspaceConfig = field(
        default_factory=WorkspaceConfig, metadata=s.section(WorkspaceConfig)
    )
    contract: ContractConfig = field(
        default_factory=ContractConfig, metadata=s.section(ContractConfig)
    )
    capture: CaptureConfig = field(default_factory=CaptureConfig, metadata=s.section(CaptureConfig))
    metadata: MetadataStoreConfig = field(
        default_factory=MetadataStoreConfig, metadata=s.section(MetadataStoreConfig)
    )
    records: RecordStoreConfig = field(
        default_factory=RecordStoreConfig, metadata=s.section(RecordStoreConfig)
    )
    artifacts: ArtifactStoreConfig = field(
        default_factory=ArtifactStoreConfig, metadata=s.section(ArtifactStoreConfig)
    )
    interpretation: InterpretationConfig = field(
        default_factory=InterpretationConfig, metadata=s.section(InterpretationConfig)
    )
    recovery: RecoveryConfig = field(
        default_factory=RecoveryConfig, metadata=s.section(RecoveryConfig)
    )
    surfaces: SurfaceConfig = field(
        default_factory=SurfaceConfig, metadata=s.section(SurfaceConfig)
    )
    retention: RetentionConfig = field(
        default_factory=RetentionConfig, metadata=s.section(RetentionConfig)
    )
    security: SecurityConfig = field(
        default_factory=SecurityConfig, metadata=s.section(SecurityConfig)
    )

    def __post_init__(self) -> None:
        s.validate_fields(self)
        ws = self.workspace
        if self.metadata.database_path is None:
            self._replace_section(
                "metadata", database_path=_as_path(ws.metadata_path) / DATABASE_FILE_NAME
            )
        if self.records.root_path is None:
            self._replace_section("records", root_path=ws.records_path)
        if self.artifacts.root_path is None:
            self._replace_section("artifacts", root_path=ws.artifacts_path)
        rec = self.recovery
        outbox = rec.outbox_root or _as_path(ws.cache_path) / "outbox"
        backup = rec.backup_root or default_backup_root(ws.root_path)
        staging = rec.restore_staging_root or backup / ".staging"
        if (outbox, backup, staging) != (
            rec.outbox_root,
            rec.backup_root,
            rec.restore_staging_root,
        ):
            self._replace_section(
                "recovery", outbox_root=outbox, backup_root=backup, restore_staging_root=staging
            )

    def _replace_section(self, name: str, **changes: object) -> None:
        section = dataclasses.replace(getattr(self, name), **changes)
        object.__setattr__(self, name, section)


def _as_path(value: Path | None) -> Path:
    # WorkspaceConfig always fills its derived paths; this narrows the type.
    assert value is not None
    return value
