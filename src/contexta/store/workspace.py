"""Build the shared ``Database`` of a workspace from plane configs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from contexta.store.sql.engine import Database

if TYPE_CHECKING:
    from contexta.config import MetadataStoreConfig

__all__ = ["DEFAULT_DATABASE_NAME", "database_for"]

DEFAULT_DATABASE_NAME = "contexta.sqlite3"


def database_for(config: MetadataStoreConfig, *, durability: str = "flush") -> Database:
    """Return an unopened ``Database`` for the metadata plane config."""
    if config.storage_adapter == "postgresql":
        from contexta.store.sql._postgres import PostgresBackend

        assert config.database_url is not None  # the config guarantees it
        backend = PostgresBackend(
            config.database_url, read_only=config.read_only, durability=durability
        )
        return Database(
            backend,
            auto_create=config.auto_create,
            auto_migrate=config.auto_migrate,
            label="PostgreSQL workspace database",
        )
    from contexta.store.sql._sqlite import SqliteBackend

    path: Path | str
    if config.database_path is None:
        path = Path(".contexta", "metadata", DEFAULT_DATABASE_NAME).resolve()
    elif str(config.database_path) == ":memory:":
        path = ":memory:"
    else:
        path = Path(config.database_path)
    sqlite_backend = SqliteBackend(path, read_only=config.read_only, durability=durability)
    return Database(
        sqlite_backend,
        auto_create=config.auto_create,
        auto_migrate=config.auto_migrate,
        label="workspace database",
    )
