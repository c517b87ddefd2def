"""Ownership rules between refs (contract.md §3.3 shapes, §3.6 owner/prefix rules)."""

from __future__ import annotations

from contexta.contract._errors import fail
from contexta.contract.refs import StableRef

__all__ = ["check_child_of", "check_named_child", "check_prefix"]

_CODE = "stable_ref_prefix_mismatch"


def check_child_of(child: StableRef, owner: StableRef, field: str, owner_field: str) -> None:
    """``child`` value must be ``owner`` value plus exactly one component."""
    value = child._value
    prefix = owner._value
    if (
        len(child._components) != len(owner._components) + 1
        or not value.startswith(prefix)
        or value[len(prefix)] != "."
    ):
        fail(
            _CODE,
            field,
            child._text,
            f"'{child._kind}:{prefix}.<name>' (owned by {owner_field} {owner._text!r})",
            f"does not belong to {owner_field}",
        )


def check_named_child(
    child: StableRef, owner: StableRef, name: str, field: str, owner_field: str
) -> None:
    """``child`` value must equal ``owner`` value + ``.`` + ``name``."""
    expected = f"{owner._value}.{name}"
    if child._value != expected:
        fail(
            _CODE,
            field,
            child._text,
            f"'{child._kind}:{expected}' ({owner_field} value + '.' + name)",
            f"does not match {owner_field} and name",
        )


def check_prefix(
    child: StableRef, owner: StableRef, count: int, field: str, owner_field: str
) -> None:
    """The first ``count`` components of ``child`` must equal ``owner``'s components."""
    if child._components[:count] != owner._components[:count]:
        wanted = ".".join(owner._components[:count])
        fail(
            _CODE,
            field,
            child._text,
            f"'{child._kind}:{wanted}...' (prefix from {owner_field} {owner._text!r})",
            f"prefix does not match {owner_field}",
        )
