"""Error classes that combine a role with the metadata area (contract.md §12.1)."""

from __future__ import annotations

from contexta.errors import ConflictError, MetadataError, NotFoundError

__all__ = ["MetadataConflictError", "MetadataNotFoundError"]


class MetadataConflictError(ConflictError, MetadataError):
    """A ref already holds different content and the change is not a legal update."""

    default_code = "metadata_ref_conflict"


class MetadataNotFoundError(NotFoundError, MetadataError):
    """A row or a required parent is absent."""

    default_code = "metadata_row_not_found"
