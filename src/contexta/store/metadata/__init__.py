"""Metadata plane: projects, runs, stages, batches and the rest (contract.md §4.2)."""

from __future__ import annotations

from contexta.config import MetadataStoreConfig
from contexta.store.metadata.adapters import (
    DuckDBAdapter,
    FrameAdapterProtocol,
    PandasAdapter,
    PolarsAdapter,
)
from contexta.store.metadata.integrity import (
    IntegrityIssue,
    IntegrityReport,
    RepairCandidate,
    RepairPlan,
    RepairPreview,
    check_integrity,
    plan_repairs,
    preview_repairs,
)
from contexta.store.metadata.migrations import (
    MigrationHistoryRow,
    MigrationPlan,
    MigrationResult,
    MigrationStep,
    SchemaInspection,
    dry_run_migration_for,
    inspect_schema,
    migrate_for,
    plan_migration_for,
)
from contexta.store.metadata.snapshot import RunSnapshot, build_run_snapshot
from contexta.store.metadata.store import CURRENT_METADATA_STORE_SCHEMA_VERSION, MetadataStore

__all__ = [
    "MetadataStore",
    "MetadataStoreConfig",
    "CURRENT_METADATA_STORE_SCHEMA_VERSION",
    "RunSnapshot",
    "build_run_snapshot",
    "IntegrityIssue",
    "IntegrityReport",
    "check_integrity",
    "RepairCandidate",
    "RepairPlan",
    "RepairPreview",
    "plan_repairs",
    "preview_repairs",
    "SchemaInspection",
    "MigrationStep",
    "MigrationPlan",
    "MigrationResult",
    "MigrationHistoryRow",
    "inspect_schema",
    "plan_migration_for",
    "dry_run_migration_for",
    "migrate_for",
    "DuckDBAdapter",
    "FrameAdapterProtocol",
    "PandasAdapter",
    "PolarsAdapter",
]
