"""Role + area error classes of the record plane (contract.md §12.1)."""

from __future__ import annotations

from contexta.errors import ConflictError, NotFoundError, RecordError

__all__ = ["RecordConflictError", "RecordNotFoundError"]


class RecordConflictError(ConflictError, RecordError):
    default_code = "record_ref_conflict"


class RecordNotFoundError(NotFoundError, RecordError):
    default_code = "record_run_not_found"
