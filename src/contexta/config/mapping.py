"""Nested mappings ↔ config objects: patches, merging and round trips (§2.2).

A *patch* is a nested mapping whose keys are config field names. Patches from
files, the environment and callers are checked here against the dataclass
fields, so an unknown key fails early with the closest valid names, and every
value is validated with the source it came from.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any, TypeVar

from contexta.config import _specs as s
from contexta.config.sections import DERIVED_WORKSPACE_DIRS, WorkspaceConfig
from contexta.config.unified import DATABASE_FILE_NAME, UnifiedConfig, default_backup_root
from contexta.errors import ConfigurationError, truncate_value

__all__ = [
    "ConfigPatch",
    "build_schema_defaults",
    "build_section",
    "build_unified_config",
    "config_to_mapping",
    "merge_config_patch",
    "normalize_patch",
    "replace_unified_config",
]

ConfigPatch = Mapping[str, Any]
_C = TypeVar("_C")


def merge_config_patch(
    base: Mapping[str, Any] | None, patch: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Deep merge of two nested mappings; ``patch`` wins. Neither input is modified."""
    merged: dict[str, Any] = {}
    for key, value in (base or {}).items():
        merged[key] = merge_config_patch(value, None) if isinstance(value, Mapping) else value
    for key, value in (patch or {}).items():
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = merge_config_patch(old, value)
        elif isinstance(value, Mapping):
            merged[key] = merge_config_patch(value, None)
        else:
            merged[key] = value
    return merged


def _unknown_field(cls: type, key: object, source: str | None) -> ConfigurationError:
    names = [f.name for f in dataclasses.fields(cls)]
    key_text = key if isinstance(key, str) else truncate_value(key)
    close = difflib.get_close_matches(str(key_text), names, n=3, cutoff=0.5)
    path = s.field_path(cls, str(key_text))
    where = f" in {source}" if source else ""
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    message = f"unknown config field {path!r}{where}{hint} Valid fields here: {', '.join(names)}"
    details = {"field": path, "suggestions": close, "allowed": names, "source": source}
    return ConfigurationError(message, code="unknown_config_field", details=details)


def normalize_patch(
    cls: type, patch: Mapping[str, Any], *, source: str | None = None
) -> dict[str, Any]:
    """Check a nested patch against ``cls``'s fields and validate each leaf value."""
    if not isinstance(patch, Mapping):
        section = getattr(cls, "_section", "") or "config"
        raise s.config_error(section, patch, f"a mapping of {cls.__name__} fields", source=source)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    result: dict[str, Any] = {}
    for key, value in patch.items():
        fld = fields.get(key) if isinstance(key, str) else None
        if fld is None:
            raise _unknown_field(cls, key, source)
        spec = s.spec_of(fld)
        path = s.field_path(cls, key)
        if spec.kind == "nested" and spec.nested is not None:
            if isinstance(value, spec.nested):
                value = _section_patch(value)
            if not isinstance(value, Mapping):
                raise s.config_error(path, value, spec.describe(), source=source)
            result[key] = normalize_patch(spec.nested, value, source=source)
        else:
            result[key] = s.coerce(spec, value, path, source=source)
    return result


def _section_patch(section: Any) -> dict[str, Any]:
    """Plain patch of a section instance; workspace paths derived from its root follow."""
    plain: dict[str, Any] = s.to_plain(section)
    if isinstance(section, WorkspaceConfig):
        for name, sub in DERIVED_WORKSPACE_DIRS.items():
            if getattr(section, name) == section.root_path / sub:
                plain[name] = None
    return plain


def _construct(cls: type[_C], normalized: Mapping[str, Any]) -> _C:
    kwargs: dict[str, Any] = {}
    for fld in dataclasses.fields(cls):  # type: ignore[arg-type]
        if fld.name not in normalized:
            continue
        spec = s.spec_of(fld)
        value = normalized[fld.name]
        if spec.kind == "nested" and spec.nested is not None:
            value = _construct(spec.nested, value)
        kwargs[fld.name] = value
    return cls(**kwargs)


def build_section(cls: type[_C], m: Mapping[str, Any], *, source: str | None = None) -> _C:
    """Build one config class from a nested mapping (unknown keys refused)."""
    return _construct(cls, normalize_patch(cls, m, source=source))


def build_schema_defaults() -> UnifiedConfig:
    """Defaults of contract §9 with no profile applied (root ``./.contexta``)."""
    return UnifiedConfig()


def build_unified_config(patch: Mapping[str, Any] | None = None) -> UnifiedConfig:
    """Schema defaults plus a nested mapping patch."""
    return build_section(UnifiedConfig, patch or {}, source="config patch")


def config_to_mapping(config: UnifiedConfig) -> dict[str, Any]:
    """Nested plain dict of a config; paths as strings, sequences as lists.

    ``build_unified_config(config_to_mapping(cfg)) == cfg``.
    """
    if not isinstance(config, UnifiedConfig):
        msg = f"config_to_mapping expects a UnifiedConfig; got {truncate_value(config)}"
        raise ConfigurationError(msg, details={"field": "config", "allowed": "UnifiedConfig"})
    plain: dict[str, Any] = s.to_plain(config)
    return plain


def _patch_base(config: UnifiedConfig) -> dict[str, Any]:
    """``config_to_mapping`` with derived values reset to ``None`` ("follow").

    A value equal to what would be derived from the current root (or from
    ``database_url``) is treated as not set explicitly, so a patch that moves
    the workspace root moves those paths along.
    """
    base = config_to_mapping(config)
    ws = config.workspace
    for name, sub in DERIVED_WORKSPACE_DIRS.items():
        if getattr(ws, name) == ws.root_path / sub:
            base["workspace"][name] = None
    meta = config.metadata
    if meta.database_url is not None:
        base["metadata"]["storage_adapter"] = None
        if meta.database_url.startswith("sqlite:"):
            base["metadata"]["database_path"] = None
    elif meta.storage_adapter == "sqlite":
        base["metadata"]["storage_adapter"] = None
    if ws.metadata_path is not None and meta.database_path == ws.metadata_path / DATABASE_FILE_NAME:
        base["metadata"]["database_path"] = None
    if config.records.root_path == ws.records_path:
        base["records"]["root_path"] = None
    if config.artifacts.root_path == ws.artifacts_path:
        base["artifacts"]["root_path"] = None
    rec = config.recovery
    if ws.cache_path is not None and rec.outbox_root == ws.cache_path / "outbox":
        base["recovery"]["outbox_root"] = None
    if rec.backup_root is not None and rec.restore_staging_root == rec.backup_root / ".staging":
        base["recovery"]["restore_staging_root"] = None
    if rec.backup_root == default_backup_root(ws.root_path):
        base["recovery"]["backup_root"] = None
    return base


def replace_unified_config(
    config: UnifiedConfig, patch: Mapping[str, Any] | None = None
) -> UnifiedConfig:
    """Copy of ``config`` with a nested patch applied.

    Paths that were derived from the workspace root follow a new root given in
    the patch; paths set explicitly keep their value.
    """
    if not isinstance(config, UnifiedConfig):
        msg = f"replace_unified_config expects a UnifiedConfig; got {truncate_value(config)}"
        raise ConfigurationError(msg, details={"field": "config", "allowed": "UnifiedConfig"})
    normalized = normalize_patch(UnifiedConfig, patch or {}, source="config patch")
    return build_section(UnifiedConfig, merge_config_patch(_patch_base(config), normalized))
