"""SQL layer shared by the SQLite and PostgreSQL backends (SQLAlchemy Core)."""

from __future__ import annotations

__all__: list[str] = []
