"""Argument checks shared by the capture scopes: mappings, flags, reserved keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contexta.errors import ValidationError, truncate_value

__all__ = ["check_flag", "check_mapping", "check_metadata"]


def check_metadata(metadata: object, field: str = "metadata") -> dict[str, Any]:
    """User metadata as a dict; keys under ``contexta.`` are reserved (§8.8)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        message = f"{field} must be a mapping; got {truncate_value(metadata)}"
        raise ValidationError(message, details={"field": field,
                                                "value": truncate_value(metadata)})
    reserved = sorted(str(key) for key in metadata if str(key).startswith("contexta."))
    if reserved:
        message = f"{field} keys starting with 'contexta.' are reserved: {reserved}"
        raise ValidationError(message, details={"field": field, "value": reserved,
                                                "allowed": "keys not starting with 'contexta.'"})
    return dict(metadata)


def check_flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        message = f"{field} must be True, False or None; got {truncate_value(value)}"
        raise ValidationError(message, details={"field": field, "value": truncate_value(value)})
    return value


def check_mapping(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        message = f"{field} must be a mapping; got {truncate_value(value)}"
        raise ValidationError(message, details={"field": field, "value": truncate_value(value)})
    return dict(value)
