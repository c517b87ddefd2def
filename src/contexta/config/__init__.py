"""Configuration of contexta: frozen dataclasses resolved once at the edge (contract §2.2, §9).

``UnifiedConfig`` holds one section per layer (workspace, contract, capture, the
three store planes, interpretation policies, recovery, surfaces, retention,
security). Every field is declared once, with its default and its validation, in
the section modules; construction validates and makes every store path
absolute and concrete. ``load_config`` layers profile, overlays, a TOML/JSON
file, ``CONTEXTA_*`` variables and arguments; this package is the only part of
contexta that reads the environment for configuration.
"""

from __future__ import annotations

from contexta.config.env import (
    CANONICAL_ENV_PREFIX,
    PROFILE_ENV_KEY,
    PROFILE_OVERLAYS_ENV_KEY,
    apply_env_overrides,
)
from contexta.config.interpretation import (
    AlertPolicy,
    AnomalyPolicy,
    ComparisonPolicy,
    DiagnosticsPolicy,
    InterpretationConfig,
    ReportPolicy,
    SearchPolicy,
    TrendPolicy,
)
from contexta.config.loader import load_config, load_profile, make_local_config, make_test_config
from contexta.config.mapping import (
    build_schema_defaults,
    build_unified_config,
    config_to_mapping,
    merge_config_patch,
    replace_unified_config,
)
from contexta.config.operations import RecoveryConfig, RetentionConfig, SecurityConfig
from contexta.config.sections import CaptureConfig, ContractConfig, WorkspaceConfig
from contexta.config.stores import ArtifactStoreConfig, MetadataStoreConfig, RecordStoreConfig
from contexta.config.surfaces import (
    CLIConfig,
    ExportSurfaceConfig,
    HTMLConfig,
    HTTPConfig,
    NotebookConfig,
    SurfaceConfig,
)
from contexta.config.unified import (
    PROFILE_NAMES,
    PROFILE_OVERLAY_NAMES,
    ProfileName,
    ProfileOverlayName,
    UnifiedConfig,
)

__all__ = [
    "UnifiedConfig",
    "WorkspaceConfig",
    "ContractConfig",
    "CaptureConfig",
    "MetadataStoreConfig",
    "RecordStoreConfig",
    "ArtifactStoreConfig",
    "InterpretationConfig",
    "ComparisonPolicy",
    "DiagnosticsPolicy",
    "ReportPolicy",
    "SearchPolicy",
    "TrendPolicy",
    "AnomalyPolicy",
    "AlertPolicy",
    "RecoveryConfig",
    "SurfaceConfig",
    "CLIConfig",
    "HTTPConfig",
    "HTMLConfig",
    "NotebookConfig",
    "ExportSurfaceConfig",
    "RetentionConfig",
    "SecurityConfig",
    "ProfileName",
    "ProfileOverlayName",
    "PROFILE_NAMES",
    "PROFILE_OVERLAY_NAMES",
    "CANONICAL_ENV_PREFIX",
    "PROFILE_ENV_KEY",
    "PROFILE_OVERLAYS_ENV_KEY",
    "load_config",
    "load_profile",
    "make_local_config",
    "make_test_config",
    "apply_env_overrides",
    "build_schema_defaults",
    "build_unified_config",
    "replace_unified_config",
    "config_to_mapping",
    "merge_config_patch",
]
