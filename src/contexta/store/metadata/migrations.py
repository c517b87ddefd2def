"""Schema versions and migration steps (contract.md §4.1, §4.2).

Version "1" is the first schema; the ordered ``MIGRATIONS`` list grows with
each release that changes the schema, and ``migrate_for`` applies the missing
steps in order inside one transaction each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from contexta.store.sql import schema
from contexta.store.workspace import database_for

if TYPE_CHECKING:
    from contexta.config import MetadataStoreConfig

__all__ = [
    "MIGRATIONS",
    "MigrationHistoryRow",
    "MigrationPlan",
    "MigrationResult",
    "MigrationStep",
    "SchemaInspection",
    "dry_run_migration_for",
    "inspect_schema",
    "migrate_for",
    "plan_migration_for",
]


@dataclass(frozen=True, slots=True)
class MigrationStep:
    from_version: str | None
    to_version: str
    description: str


@dataclass(frozen=True, slots=True)
class MigrationHistoryRow:
    version: str
    description: str
    applied_at: str


@dataclass(frozen=True, slots=True)
class SchemaInspection:
    database: str
    exists: bool
    current_version: str | None
    target_version: str
    history: tuple[MigrationHistoryRow, ...] = ()

    @property
    def up_to_date(self) -> bool:
        return self.current_version == self.target_version


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    current_version: str | None
    target_version: str
    steps: tuple[MigrationStep, ...] = ()


@dataclass(frozen=True, slots=True)
class MigrationResult:
    applied: bool
    dry_run: bool
    plan: MigrationPlan
    notes: tuple[str, ...] = ()


MIGRATIONS: tuple[tuple[MigrationStep, Callable[[Any], None] | None], ...] = (
    (MigrationStep(None, "1", "create workspace schema"), None),
)


def inspect_schema(config: MetadataStoreConfig) -> SchemaInspection:
    db = database_for(config)
    target = schema.SCHEMA_VERSION
    try:
        if not db.backend.exists():
            return SchemaInspection(str(config.database_path), False, None, target)
        with db.read("inspecting the schema") as conn:
            version = conn.execute(select(schema.schema_info.c.version)).scalar()
            history = tuple(
                MigrationHistoryRow(v, d, a)
                for v, d, a in conn.execute(
                    select(
                        schema.migration_history.c.version,
                        schema.migration_history.c.description,
                        schema.migration_history.c.applied_at,
                    ).order_by(schema.migration_history.c.id)
                )
            )
        return SchemaInspection(str(config.database_path), True, version, target, history)
    finally:
        db.close()


def plan_migration_for(
    config: MetadataStoreConfig, *, target_version: str | None = None
) -> MigrationPlan:
    inspection = inspect_schema(config)
    target = target_version or schema.SCHEMA_VERSION
    steps = tuple(
        step
        for step, _ in MIGRATIONS
        if inspection.current_version is None or step.to_version > inspection.current_version
    )
    if inspection.current_version == target:
        steps = ()
    return MigrationPlan(inspection.current_version, target, steps)


def dry_run_migration_for(
    config: MetadataStoreConfig, *, target_version: str | None = None
) -> MigrationResult:
    plan = plan_migration_for(config, target_version=target_version)
    return MigrationResult(False, True, plan, tuple(s.description for s in plan.steps))


def migrate_for(
    config: MetadataStoreConfig, *, target_version: str | None = None
) -> MigrationResult:
    plan = plan_migration_for(config, target_version=target_version)
    if not plan.steps:
        return MigrationResult(False, False, plan, ("already up to date",))
    db = database_for(config)
    try:
        _ = db.engine  # opening creates or upgrades the schema
    finally:
        db.close()
    return MigrationResult(True, False, plan, tuple(s.description for s in plan.steps))
