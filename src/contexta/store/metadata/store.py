"""``MetadataStore``: the metadata plane of a workspace (contract.md §4.2)."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import select

from contexta.store.metadata.repositories import (
    BatchRepository,
    DeploymentRepository,
    EnvironmentRepository,
    OperationRepository,
    ProjectRepository,
    ProvenanceRepository,
    RelationRepository,
    RunRepository,
    SampleRepository,
    StageRepository,
)
from contexta.store.sql import schema
from contexta.store.workspace import database_for

if TYPE_CHECKING:
    from contexta.config import MetadataStoreConfig
    from contexta.store.metadata.integrity import IntegrityReport, RepairPlan, RepairPreview
    from contexta.store.metadata.migrations import MigrationPlan, MigrationResult
    from contexta.store.metadata.snapshot import RunSnapshot
    from contexta.store.sql.engine import Database

__all__ = ["CURRENT_METADATA_STORE_SCHEMA_VERSION", "MetadataStore"]

CURRENT_METADATA_STORE_SCHEMA_VERSION = schema.SCHEMA_VERSION


class MetadataStore:
    """Projects, runs, deployments, stages, batches, samples, operations,
    environments, relations and provenance, with idempotent puts.

    Opening is lazy: nothing touches the disk until the first read or write.
    ``close()`` releases connections; the next call reopens (contract.md §4.1).
    """

    def __init__(
        self, config: MetadataStoreConfig | None = None, *, durability: str = "flush"
    ) -> None:
        if config is None:
            from contexta.config import UnifiedConfig

            config = UnifiedConfig().metadata
        self.config = config
        self._db: Database = database_for(config, durability=durability)
        self._writes = 0
        self._write_lock = threading.Lock()
        on_write = self._note_write
        self.projects = ProjectRepository(self._db, on_write)
        self.runs = RunRepository(self._db, on_write)
        self.deployments = DeploymentRepository(self._db, on_write)
        self.stages = StageRepository(self._db, on_write)
        self.batches = BatchRepository(self._db, on_write)
        self.samples = SampleRepository(self._db, on_write)
        self.operations = OperationRepository(self._db, on_write)
        self.environments = EnvironmentRepository(self._db, on_write)
        self.relations = RelationRepository(self._db, on_write)
        self.provenance = ProvenanceRepository(self._db, on_write)

    def _note_write(self) -> None:
        with self._write_lock:
            self._writes += 1

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        """Release connections; idempotent; the store reopens on next use."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def read_only(self) -> bool:
        return self._db.read_only

    # -- schema --------------------------------------------------------------
    def get_store_schema_version(self) -> str:
        with self._db.read() as conn:
            version = conn.execute(
                select(schema.schema_info.c.version).where(
                    schema.schema_info.c.plane == "workspace"
                )
            ).scalar()
        return str(version or CURRENT_METADATA_STORE_SCHEMA_VERSION)

    def plan_migration(self, *, target_version: str | None = None) -> MigrationPlan:
        from contexta.store.metadata.migrations import plan_migration_for

        return plan_migration_for(self.config, target_version=target_version)

    def dry_run_migration(self, *, target_version: str | None = None) -> MigrationResult:
        from contexta.store.metadata.migrations import dry_run_migration_for

        return dry_run_migration_for(self.config, target_version=target_version)

    def migrate(self, *, target_version: str | None = None) -> MigrationResult:
        from contexta.store.metadata.migrations import migrate_for

        return migrate_for(self.config, target_version=target_version)

    # -- reads across tables ---------------------------------------------------
    def list_registered_refs(self) -> tuple[str, ...]:
        """Every ref written to the plane, sorted."""
        names = (
            "projects",
            "runs",
            "deployments",
            "stages",
            "batches",
            "samples",
            "operations",
            "environments",
            "relations",
            "provenance",
        )
        refs: list[str] = []
        with self._db.read() as conn:
            for name in names:
                table = schema.tables[name]
                refs.extend(conn.execute(select(table.c.ref)).scalars())
        return tuple(sorted(refs))

    def data_version(self) -> int:
        """Changes whenever anything in the workspace was written (cache key)."""
        return self._db.data_version()

    def check_integrity(self, *, full: bool = True) -> IntegrityReport:
        from contexta.store.metadata.integrity import check_integrity

        return check_integrity(self, full=full)

    def plan_repairs(self, report: IntegrityReport | None = None) -> RepairPlan:
        from contexta.store.metadata.integrity import plan_repairs

        return plan_repairs(self, report)

    def preview_repairs(self, plan: RepairPlan | None = None) -> RepairPreview:
        from contexta.store.metadata.integrity import preview_repairs

        return preview_repairs(self, plan)

    def build_run_snapshot(self, run_ref: object) -> RunSnapshot:
        from contexta.store.metadata.snapshot import build_run_snapshot

        return build_run_snapshot(self, run_ref)

    @property
    def duckdb(self) -> Any:
        """Raw SQL adapter of the active backend (name kept from the reference)."""
        from contexta.store.metadata.adapters import DuckDBAdapter

        return DuckDBAdapter(self._db)

    @property
    def pandas(self) -> Any:
        from contexta.store.metadata.adapters import PandasAdapter

        return PandasAdapter(self._db)

    @property
    def polars(self) -> Any:
        from contexta.store.metadata.adapters import PolarsAdapter

        return PolarsAdapter(self._db)
