"""Namespaced extension fields and the registry that says who may use which namespace.

Extensions let adapters attach data to any model without new fields (contract.md §3.9).
Validation of a model checks only their shape; registration is checked by the
``validate_*`` functions when a registry is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from contexta.contract._base import ContractModel, model
from contexta.contract._errors import add_owner, fail
from contexta.contract.text import check_free_text, check_token, freeze_json_mapping
from contexta.errors import ContractError

__all__ = [
    "EXTENSION_OWNERSHIP_CLASSES",
    "ExtensionFieldSet",
    "ExtensionRegistry",
    "ExtensionRegistryEntry",
]

EXTENSION_OWNERSHIP_CLASSES = ("core", "adapter", "plugin", "compat", "bridge", "private")

_NAMESPACE_RE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_FIELD_RE = re.compile(r"[a-z][a-z0-9_]*")
_ALLOWED_NAMESPACE = "dotted lower-case segments like 'acme.tracking', at most 128 characters"
_CODE = "extension_invalid_namespace"


def _check_namespace(value: object, field_name: str = "namespace") -> str:
    if isinstance(value, str) and len(value) <= 128 and _NAMESPACE_RE.fullmatch(value):
        return str(value)
    fail(_CODE, field_name, value, _ALLOWED_NAMESPACE)


def _check_names(value: object, field_name: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        fail(_CODE, field_name, value, "a tuple of lower_snake field names")
    names = []
    for item in value:
        if not isinstance(item, str) or _FIELD_RE.fullmatch(item) is None:
            fail(_CODE, field_name, item, "lower_snake field names")
        if item not in names:
            names.append(str(item))
    return tuple(names)


@model(namespace="s", fields="m", readonly_fields="t")
class ExtensionFieldSet(ContractModel):
    """Fields owned by one namespace; ``readonly_fields`` may not change on merge."""

    namespace: str
    fields: Mapping[str, Any]
    readonly_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            _check_namespace(self.namespace)
            frozen = freeze_json_mapping(self.fields, "fields")
            if not frozen:
                fail(_CODE, "fields", self.fields, "a non-empty mapping")
            for key in frozen:
                if _FIELD_RE.fullmatch(key) is None:
                    fail(_CODE, "fields", key, "lower_snake keys (^[a-z][a-z0-9_]*$)")
            readonly = _check_names(self.readonly_fields, "readonly_fields")
            for name in readonly:
                if name not in frozen:
                    fail(_CODE, "readonly_fields", name, f"names among {sorted(frozen)}")
            object.__setattr__(self, "fields", frozen)
            object.__setattr__(self, "readonly_fields", readonly)
        except ContractError as err:
            raise add_owner(err, "ExtensionFieldSet") from None

    @classmethod
    def _from_mapping(cls, data: Mapping[str, Any], field_name: str) -> ExtensionFieldSet:
        unknown = set(data) - {"namespace", "fields", "readonly_fields"}
        if unknown or "namespace" not in data or "fields" not in data:
            fail(_CODE, field_name, data, "a mapping with namespace, fields, readonly_fields")
        return cls(data["namespace"], data["fields"], data.get("readonly_fields", ()))

    def merge_fields(self, mapping: Mapping[str, Any]) -> ExtensionFieldSet:
        """A copy with ``mapping`` merged in; changing a read-only field is an error."""
        if not isinstance(mapping, Mapping):
            fail(_CODE, "mapping", mapping, "a mapping of extension fields")
        merged = dict(self.fields)
        for key, value in mapping.items():
            if key in self.readonly_fields and key in merged:
                old = freeze_json_mapping({key: merged[key]}, "fields")
                new = freeze_json_mapping({key: value}, "fields")
                if old != new:
                    fail(_CODE, f"fields.{key}", value, "read-only fields keep their value")
            merged[key] = value
        return ExtensionFieldSet(self.namespace, merged, self.readonly_fields)

    def with_additional_readonly_fields(self, names: Iterable[str]) -> ExtensionFieldSet:
        added = _check_names(names, "names")
        combined = tuple(dict.fromkeys((*self.readonly_fields, *added)))
        return ExtensionFieldSet(self.namespace, self.fields, combined)


@model(
    namespace="s",
    ownership_class="s",
    owner_slug="v",
    status="s",
    target_models="t",
    readonly_fields="t",
    field_specs="m",
    notes="v",
)
class ExtensionRegistryEntry(ContractModel):
    """Who owns a namespace and which models may carry it (``"*"`` means every model)."""

    namespace: str
    ownership_class: str
    owner_slug: str
    status: str
    target_models: tuple[str, ...]
    readonly_fields: tuple[str, ...] = ()
    field_specs: Mapping[str, Any] | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        try:
            namespace = _check_namespace(self.namespace)
            ownership = self.ownership_class
            if type(ownership) is not str or ownership not in EXTENSION_OWNERSHIP_CLASSES:
                allowed = ", ".join(EXTENSION_OWNERSHIP_CLASSES)
                fail(_CODE, "ownership_class", self.ownership_class, allowed)
            if self.ownership_class == "core" and not namespace.startswith("contexta."):
                fail(_CODE, "namespace", namespace, "'contexta.*' for ownership_class 'core'")
            check_token(self.status, "status", _CODE)
            if not isinstance(self.owner_slug, str) or not self.owner_slug.strip():
                fail(_CODE, "owner_slug", self.owner_slug, "a non-blank str")
            targets = self.target_models
            if isinstance(targets, (str, bytes, Mapping)) or not isinstance(targets, Iterable):
                fail(_CODE, "target_models", targets, "a tuple of model class names")
            targets = tuple(targets)
            for item in targets:
                if not isinstance(item, str) or not item:
                    fail(_CODE, "target_models", item, "model class names such as 'Run'")
            object.__setattr__(self, "target_models", targets)
            object.__setattr__(
                self, "readonly_fields", _check_names(self.readonly_fields, "readonly_fields")
            )
            specs = freeze_json_mapping(self.field_specs, "field_specs")
            object.__setattr__(self, "field_specs", specs)
            if self.notes is not None:
                check_free_text(self.notes, "notes")
        except ContractError as err:
            raise add_owner(err, "ExtensionRegistryEntry") from None

    def allows(self, model_name: str) -> bool:
        return "*" in self.target_models or model_name in self.target_models


@model(entries="x")
class ExtensionRegistry(ContractModel):
    """The registered namespaces; lookups by namespace."""

    entries: tuple[ExtensionRegistryEntry, ...] = ()

    def __post_init__(self) -> None:
        entries = self.entries
        if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Iterable):
            fail(_CODE, "entries", entries, "a tuple of ExtensionRegistryEntry")
        entries = tuple(entries)
        seen: set[str] = set()
        for item in entries:
            if type(item) is not ExtensionRegistryEntry:
                fail(_CODE, "entries", item, "ExtensionRegistryEntry instances")
            if item.namespace in seen:
                fail(_CODE, "entries", item.namespace, "one entry per namespace", "duplicate")
            seen.add(item.namespace)
        object.__setattr__(self, "entries", entries)

    def get(self, namespace: str) -> ExtensionRegistryEntry | None:
        for entry in self.entries:
            if entry.namespace == namespace:
                return entry
        return None

    def is_registered(self, namespace: str, model_name: str | None = None) -> bool:
        entry = self.get(namespace)
        if entry is None:
            return False
        return model_name is None or entry.allows(model_name)

    def with_entry(self, entry: ExtensionRegistryEntry) -> ExtensionRegistry:
        return ExtensionRegistry((*self.entries, entry))
