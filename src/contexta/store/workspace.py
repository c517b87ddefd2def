"""Build the shared ``Database`` of a workspace from plane configs."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING

from contexta.errors import StoreAccessError
from contexta.store.sql.engine import Database

if TYPE_CHECKING:
    from contexta.config import MetadataStoreConfig

__all__ = ["DEFAULT_DATABASE_NAME", "check_root_is_a_folder", "database_for"]

DEFAULT_DATABASE_NAME = "contexta.sqlite3"


def check_root_is_a_folder(root: str | Path) -> None:
    """Refuse a workspace root that is a file before any store looks inside it.

    Otherwise reads find "no runs" and writes fail deep inside a store with
    ``NotADirectoryError``; a path typed by mistake deserves one clear error.
    """
    path = Path(root)
    if path.exists() and not path.is_dir():
        msg = (f"workspace.root_path {str(path)!r} is a file; a workspace is a directory "
               "(an existing one, or a path Contexta may create)")
        raise StoreAccessError(msg, code="store_io_error",
                               details={"path": str(path), "errno": errno.ENOTDIR})


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
