"""The three storage planes of a workspace: metadata, records and artifacts.

All three live in one embedded SQLite database in WAL mode (or one PostgreSQL
schema for teams), described once in ``contexta.store.sql.schema``. Records are
acknowledged through a per-process append-only spool and indexed into the
database in batches (see ``contexta.store.records``); artifact bodies are
content-addressed files next to the database.
"""

from __future__ import annotations

__all__ = ["artifacts", "metadata", "records"]
