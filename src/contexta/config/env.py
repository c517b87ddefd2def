"""``CONTEXTA_*`` environment overrides (contract §9.2).

This module and ``loader`` are the only places in contexta that read
``os.environ`` for configuration; everything below the config layer receives a
resolved ``UnifiedConfig``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from contexta.config import _specs as s
from contexta.config.mapping import replace_unified_config
from contexta.config.unified import PROFILE_NAMES, PROFILE_OVERLAY_NAMES, UnifiedConfig
from contexta.errors import ConfigurationError, truncate_value

__all__ = [
    "CANONICAL_ENV_PREFIX",
    "DATABASE_URL_ALIAS",
    "NON_OVERRIDABLE_ENV_KEYS",
    "PROFILE_ENV_KEY",
    "PROFILE_OVERLAYS_ENV_KEY",
    "apply_env_overrides",
    "env_field_paths",
    "parse_overlay_names",
    "parse_profile_name",
    "read_env_patch",
    "read_env_selectors",
]

CANONICAL_ENV_PREFIX = "CONTEXTA_"
PROFILE_ENV_KEY = "CONTEXTA_PROFILE"
PROFILE_OVERLAYS_ENV_KEY = "CONTEXTA_PROFILE_OVERLAYS"
DATABASE_URL_ALIAS = "CONTEXTA_DATABASE_URL"
NON_OVERRIDABLE_ENV_KEYS: frozenset[str] = frozenset(
    {"CONTEXTA_CONFIG_VERSION", "CONTEXTA_PROFILE_NAME"}
)
_SELECTOR_KEYS = frozenset({PROFILE_ENV_KEY, PROFILE_OVERLAYS_ENV_KEY})

# The brief fixes this logger name (a child of "contexta", which has a NullHandler).
_log = logging.getLogger("contexta.config")
_warned_unknown: set[str] = set()
_warned_lock = threading.Lock()


def _collect(cls: type, prefix: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], s.Spec]]:
    found: dict[str, tuple[tuple[str, ...], s.Spec]] = {}
    for fld in dataclasses.fields(cls):
        spec = s.spec_of(fld)
        path = (*prefix, fld.name)
        if spec.kind == "nested" and spec.nested is not None:
            found.update(_collect(spec.nested, path))
        else:
            found[CANONICAL_ENV_PREFIX + "_".join(path).upper()] = (path, spec)
    return found


_ENV_FIELDS = _collect(UnifiedConfig, ())


def env_field_paths() -> dict[str, str]:
    """Map of every ``CONTEXTA_*`` variable name to the dotted field it sets."""
    return {name: ".".join(path) for name, (path, _) in _ENV_FIELDS.items()}


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    if env is None:
        return os.environ
    if not isinstance(env, Mapping):
        msg = f"env must be a mapping of variable names to strings; got {truncate_value(env)}"
        raise ConfigurationError(msg, details={"field": "env", "allowed": "Mapping[str, str]"})
    return env


def _set_nested(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _warn_unknown(names: list[str]) -> None:
    with _warned_lock:
        fresh = sorted(n for n in names if n not in _warned_unknown)
        _warned_unknown.update(fresh)
    if fresh:
        _log.warning(
            "ignoring environment variable(s) that match no Contexta config field: %s",
            ", ".join(fresh),
        )


def read_env_patch(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Nested config patch from ``CONTEXTA_*`` variables (selectors excluded).

    Blank values are treated as unset. Unknown names are ignored and logged
    once per process; ``CONTEXTA_CONFIG_VERSION``/``CONTEXTA_PROFILE_NAME`` raise.
    """
    environ = _environ(env)
    patch: dict[str, Any] = {}
    unknown: list[str] = []
    names = sorted(k for k in environ if isinstance(k, str) and k.startswith(CANONICAL_ENV_PREFIX))
    for name in names:
        raw = environ[name]
        if name in NON_OVERRIDABLE_ENV_KEYS:
            field = name[len(CANONICAL_ENV_PREFIX) :].lower()
            msg = (
                f"environment variable {name} cannot override config field {field!r}; "
                f"remove it (set {field} in a config file or in code instead)"
            )
            raise ConfigurationError(
                msg, code="non_overridable_config_key", details={"variable": name, "field": field}
            )
        if name in _SELECTOR_KEYS:
            continue
        target = name
        if name == DATABASE_URL_ALIAS:
            # The long form wins when both are set (contract §9.2).
            if "CONTEXTA_METADATA_DATABASE_URL" in environ:
                continue
            target = "CONTEXTA_METADATA_DATABASE_URL"
        entry = _ENV_FIELDS.get(target)
        if entry is None:
            unknown.append(name)
            continue
        if not isinstance(raw, str) or not raw.strip():
            continue
        path, spec = entry
        _set_nested(patch, path, s.parse_text(spec, raw, ".".join(path), variable=name))
    if unknown:
        _warn_unknown(unknown)
    return patch


def parse_profile_name(value: object, *, source: str) -> str:
    """Validate a profile selector (``local``/``test``)."""
    text = value.strip() if isinstance(value, str) else value
    if text not in PROFILE_NAMES:
        err = s.config_error(
            "profile",
            value,
            "one of " + ", ".join(repr(p) for p in PROFILE_NAMES),
            source=source,
        )
        raise err
    return str(text)


def parse_overlay_names(value: object, *, source: str) -> tuple[str, ...]:
    """Validate overlay selectors: a comma-separated string or a sequence of names.

    Returns the names deduplicated, in the canonical application order.
    """
    allowed = "names from " + ", ".join(repr(o) for o in PROFILE_OVERLAY_NAMES)
    if isinstance(value, str):
        items: list[object] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        err = s.config_error("overlays", value, allowed, source=source)
        raise err
    for item in items:
        if item not in PROFILE_OVERLAY_NAMES:
            err = s.config_error("overlays", item, allowed, source=source)
            raise err
    return tuple(name for name in PROFILE_OVERLAY_NAMES if name in items)


def read_env_selectors(
    env: Mapping[str, str] | None = None,
) -> tuple[str | None, tuple[str, ...] | None]:
    """``(profile, overlays)`` selected by ``CONTEXTA_PROFILE``/``_OVERLAYS``, or ``None``s."""
    environ = _environ(env)
    profile = environ.get(PROFILE_ENV_KEY)
    overlays = environ.get(PROFILE_OVERLAYS_ENV_KEY)
    return (
        parse_profile_name(profile, source=f"environment variable {PROFILE_ENV_KEY}")
        if isinstance(profile, str) and profile.strip()
        else None,
        parse_overlay_names(overlays, source=f"environment variable {PROFILE_OVERLAYS_ENV_KEY}")
        if isinstance(overlays, str) and overlays.strip()
        else None,
    )


def apply_env_overrides(
    config: UnifiedConfig, *, env: Mapping[str, str] | None = None
) -> UnifiedConfig:
    """Apply ``CONTEXTA_*`` variables (``os.environ`` when ``env`` is None) to a config."""
    if not isinstance(config, UnifiedConfig):
        msg = f"apply_env_overrides expects a UnifiedConfig; got {truncate_value(config)}"
        raise ConfigurationError(msg, details={"field": "config", "allowed": "UnifiedConfig"})
    patch = read_env_patch(env)
    if not patch:
        return config
    return replace_unified_config(config, patch)
