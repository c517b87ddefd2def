"""Per-field normalizers shared by the model modules (set the normalized value in place)."""

from __future__ import annotations

from typing import Any

from contexta.contract._base import check_extensions, check_schema_version
from contexta.contract._errors import fail
from contexta.contract.enums import CORE_REF_KINDS
from contexta.contract.refs import StableRef, coerce_ref
from contexta.contract.text import freeze_json_mapping
from contexta.contract.timestamps import normalize_timestamp

__all__ = [
    "set_common",
    "set_json_field",
    "set_optional_ref",
    "set_ref",
    "set_refs",
    "set_subject_ref",
    "set_timestamp",
]

_set = object.__setattr__
_CORE_KINDS = frozenset(CORE_REF_KINDS)


def set_ref(obj: Any, field: str, kind: str | None) -> StableRef:
    value = obj.__getattribute__(field)
    ref = coerce_ref(value, field, kind)
    if ref is not value:
        _set(obj, field, ref)
    return ref


def set_optional_ref(obj: Any, field: str, kind: str | None) -> StableRef | None:
    if obj.__getattribute__(field) is None:
        return None
    return set_ref(obj, field, kind)


def set_subject_ref(obj: Any, field: str = "subject_ref") -> None:
    """``subject_ref`` fields accept any core kind (contract.md §3.3)."""
    ref = set_optional_ref(obj, field, None)
    if ref is not None and ref._kind not in _CORE_KINDS:
        fail(
            "stable_ref_kind_mismatch",
            field,
            ref._text,
            "a ref of a core kind: " + ", ".join(CORE_REF_KINDS),
        )


def set_refs(obj: Any, field: str) -> None:
    """A tuple of refs of any kind (``linked_refs``, ``evidence_refs``)."""
    value = obj.__getattribute__(field)
    if type(value) is tuple and not value:
        return
    if isinstance(value, (str, bytes, StableRef)) or not isinstance(value, (tuple, list)):
        fail("stable_ref_invalid_text", field, value, "a tuple of refs")
    refs = tuple(coerce_ref(item, f"{field}[{i}]") for i, item in enumerate(value))
    _set(obj, field, refs)


def set_timestamp(obj: Any, field: str, code: str = "context_invalid_timestamp") -> str:
    value = obj.__getattribute__(field)
    canonical = normalize_timestamp(value, field, code)
    if canonical is not value:
        _set(obj, field, canonical)
    return canonical


def set_json_field(obj: Any, field: str) -> None:
    value = obj.__getattribute__(field)
    frozen = freeze_json_mapping(value, field)
    if frozen is not value:
        _set(obj, field, frozen)


def set_common(obj: Any) -> None:
    """``schema_version`` and ``extensions``, present on every model."""
    check_schema_version(obj.schema_version)
    extensions = obj.extensions
    if type(extensions) is not tuple or extensions:
        _set(obj, "extensions", check_extensions(extensions))
