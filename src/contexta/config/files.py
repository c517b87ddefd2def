"""Config files: ``.toml`` (stdlib ``tomllib``) or ``.json`` (contract §9.1).

A file holds a nested mapping of config fields. Its top-level keys ``profile``
and ``overlays`` are selectors, not fields. Relative paths inside the file are
resolved against the current directory, like every other relative path.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from contexta.errors import ConfigurationError, truncate_value

__all__ = ["ConfigFile", "read_config_file"]

_SUFFIXES = (".toml", ".json")


class ConfigFile:
    """Contents of a config file split into selectors and the field patch."""

    __slots__ = ("overlays", "patch", "path", "profile")

    def __init__(
        self, path: Path, profile: object, overlays: object, patch: dict[str, Any]
    ) -> None:
        self.path = path
        self.profile = profile
        self.overlays = overlays
        self.patch = patch


def read_config_file(config_file: str | os.PathLike[str]) -> ConfigFile:
    """Read and parse a config file; errors name the file and say what is allowed."""
    try:
        path = Path(os.fspath(config_file))
    except TypeError as exc:
        msg = f"config_file must be a path; got {truncate_value(config_file)}"
        raise ConfigurationError(
            msg, code="config_file_invalid", details={"field": "config_file"}, cause=exc
        ) from exc
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        msg = f"config file {str(path)!r} must end in .toml or .json; got suffix {suffix!r}"
        raise ConfigurationError(
            msg,
            code="config_file_invalid",
            details={"field": "config_file", "value": str(path), "allowed": list(_SUFFIXES)},
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        msg = f"config file {str(path)!r} does not exist"
        raise ConfigurationError(
            msg,
            code="config_file_missing",
            details={"field": "config_file", "value": str(path)},
            cause=exc,
        ) from exc
    except OSError as exc:
        msg = f"config file {str(path)!r} cannot be read: {exc.strerror or exc}"
        raise ConfigurationError(
            msg,
            code="config_file_invalid",
            details={"field": "config_file", "value": str(path), "errno": exc.errno},
            cause=exc,
        ) from exc
    data = _parse(path, suffix, raw)
    if not isinstance(data, dict):
        msg = f"config file {str(path)!r} must hold a table/object at top level"
        raise ConfigurationError(
            msg, code="config_file_invalid", details={"field": "config_file", "value": str(path)}
        )
    profile = data.pop("profile", None)
    overlays = data.pop("overlays", None)
    return ConfigFile(path, profile, overlays, data)


def _parse(path: Path, suffix: str, raw: bytes) -> object:
    try:
        text = raw.decode("utf-8")
        if suffix == ".toml":
            return tomllib.loads(text)
        return json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
        msg = f"config file {str(path)!r} is not valid {suffix[1:].upper()}: {exc}"
        raise ConfigurationError(
            msg,
            code="config_file_invalid",
            details={"field": "config_file", "value": str(path)},
            cause=exc,
        ) from exc


def _reject_constant(name: str) -> object:
    msg = f"non-standard JSON constant {name}"
    raise ValueError(msg)
