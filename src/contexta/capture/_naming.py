"""Refs and names produced by capture (contract §8.2)."""

from __future__ import annotations

from contexta.capture._clock import new_hex
from contexta.contract.refs import slugify
from contexta.errors import ValidationError, truncate_value

__all__ = [
    "MAX_REF_CHARS",
    "TakenNames",
    "check_scope_name",
    "child_component",
    "run_component",
    "slug",
]

MAX_REF_CHARS = 255
MAX_COMPONENT_CHARS = 63


def check_scope_name(kind: str, name: object) -> str:
    """A scope's name must be non-blank text, as a run's is (a blank one would become an
    anonymous ``h-<hash>`` component nobody can tell apart)."""
    if not isinstance(name, str) or not name.strip():
        shown = truncate_value(name)
        message = f"{kind} name: {shown} is not allowed; expected non-blank text"
        raise ValidationError(message, code="context_invalid_name",
                              details={"field": "name", "value": shown,
                                       "allowed": "non-blank text"})
    return name


def slug(text: str, max_length: int = MAX_COMPONENT_CHARS) -> str:
    """Slug of ``text`` as a ref component of at most ``max_length`` characters."""
    return slugify(text, max_length)


def _room(owner_value: str, kind: str) -> int:
    """Characters left for one more component under ``kind:owner_value.``."""
    return min(MAX_COMPONENT_CHARS, MAX_REF_CHARS - len(kind) - 2 - len(owner_value))


def run_component(name: str, project_value: str) -> str:
    """``<slug(name)>-<8 hex>``: every execution gets its own run."""
    room = _room(project_value, "run") - 9
    return f"{slug(name, room)}-{new_hex(8)}"


class TakenNames(set[str]):
    """Components already used under one owner, plus the next suffix to try per slug.

    Names only ever get taken, never released, so every suffix below the remembered
    one is still taken: starting there finds the same smallest free suffix as a scan
    from ``-2`` would, without making the n-th repeat of a name cost n lookups.
    """

    __slots__ = ("next_suffix",)

    def __init__(self) -> None:
        super().__init__()
        self.next_suffix: dict[str, int] = {}


def child_component(name: str, owner_value: str, kind: str, taken: set[str]) -> str:
    """Owner-unique component: ``slug``, then ``slug-2``, ``slug-3``, … (smallest free)."""
    room = _room(owner_value, kind)
    base = slug(name, room)
    if base not in taken:
        return base
    hints = taken.next_suffix if isinstance(taken, TakenNames) else None
    index = 2 if hints is None else hints.get(base, 2)
    while True:
        suffix = f"-{index}"
        candidate = base[: room - len(suffix)].rstrip("-_") + suffix
        if candidate not in taken:
            if hints is not None:
                hints[base] = index + 1
            return candidate
        index += 1
