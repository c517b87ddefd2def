"""Which differences between a stored and a proposed model are legal updates.

contract.md §4.2.2: an identical put is a no-op; a different object under an
existing ref is accepted only for the changes listed per entity (metadata,
tags, fill-once fields, and open → terminal status with ``ended_at``);
anything else is a conflict that names every differing field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contexta.errors import truncate_value
from contexta.store.metadata.errors import MetadataConflictError

__all__ = ["UpdateRule", "check_update"]


@dataclass(frozen=True, slots=True)
class UpdateRule:
    """Fields that may change freely, fields that may go from None to a value, and
    whether the entity has a status lifecycle."""

    mutable: frozenset[str] = frozenset()
    fill_once: frozenset[str] = frozenset()
    has_status: bool = False


def check_update(
    ref: str, stored: Mapping[str, Any], proposed: Mapping[str, Any], rule: UpdateRule
) -> None:
    """Raise ``MetadataConflictError`` unless ``proposed`` is a legal update of ``stored``."""
    changed = [name for name in proposed if stored.get(name) != proposed.get(name)]
    illegal: dict[str, dict[str, str]] = {}
    for name in changed:
        old, new = stored.get(name), proposed.get(name)
        if name in rule.mutable:
            continue
        if name in rule.fill_once and old is None:
            continue
        if rule.has_status and name in ("status", "ended_at") and stored.get("status") == "open":
            # open -> terminal, with ended_at set in the same put (the model
            # already guarantees ended_at is None iff status is open).
            if proposed.get("status") != "open":
                continue
        illegal[name] = {"stored": truncate_value(old), "proposed": truncate_value(new)}
    if illegal:
        fields = ", ".join(sorted(illegal))
        allowed = sorted(rule.mutable | rule.fill_once) or ["nothing"]
        msg = (
            f"{ref} already exists with different {fields}; allowed changes are "
            f"{', '.join(allowed)}"
            + (" and open -> completed/failed/cancelled" if rule.has_status else "")
            + " (contract.md §4.2.2)"
        )
        raise MetadataConflictError(
            msg,
            code="metadata_ref_conflict",
            details={"ref": ref, "fields": illegal},
        )
