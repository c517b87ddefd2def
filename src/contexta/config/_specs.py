"""Field specifications: the one place that knows how a config value is checked.

Every config field is declared with a helper from this module (``flag``,
``integer``, ``choice``, ...), which stores a ``Spec`` in the dataclass field's
metadata next to its default. Construction, mapping/file loading and
environment parsing all go through ``coerce``/``parse_text`` below, so a value
is validated the same way whichever route it takes and every error names the
dotted field path, the value and what is allowed (contract §9, §12.2).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from contexta.errors import ConfigurationError, truncate_value

__all__ = [
    "MEMORY_DATABASE",
    "Spec",
    "choice",
    "coerce",
    "config_error",
    "field_path",
    "flag",
    "integer",
    "mask_url",
    "number",
    "optional_integer",
    "optional_text",
    "parse_text",
    "path",
    "section",
    "spec_of",
    "strings",
    "text",
    "to_plain",
    "validate_fields",
]

MEMORY_DATABASE = ":memory:"

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(?:[./][A-Za-z0-9_-]+)*$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_NULL_WORDS = frozenset({"null", "none"})

_RULE_TEXT = {
    "nonblank": "a non-blank string",
    "name": "a display name (non-blank, at most 512 characters, no control characters)",
    "key": "a key (letters, digits, '_' and '-', segments joined by '.' or '/'; "
    "at most 255 characters)",
    "char": "exactly one character other than a quote, carriage return or newline",
    "host": "a non-blank host name without whitespace",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Spec:
    """How one field's value is accepted: kind plus constraints."""

    kind: str  # bool | int | float | str | choice | path | seq | nested
    optional: bool = False
    choices: tuple[str, ...] = ()
    rule: str = "nonblank"
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    allow_memory: bool = False
    secret: bool = False
    nested: type | None = None

    def describe(self) -> str:
        """Human text of what is allowed, used in every error message."""
        if self.kind == "bool":
            base = "true or false"
        elif self.kind in ("int", "float"):
            base = "an integer" if self.kind == "int" else "a finite number"
            bounds = [
                f"{op} {_num(v)}"
                for op, v in ((">=", self.ge), (">", self.gt), ("<=", self.le))
                if v is not None
            ]
            if bounds:
                base += " " + " and ".join(bounds)
        elif self.kind == "choice":
            base = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind == "path":
            base = "a path (str or os.PathLike)"
            if self.allow_memory:
                base += f" or {MEMORY_DATABASE!r}"
        elif self.kind == "seq":
            item = (
                "one of " + ", ".join(repr(c) for c in self.choices)
                if self.choices
                else _RULE_TEXT[self.rule]
            )
            base = f"a sequence (list or tuple) whose items are each {item}"
        elif self.kind == "nested":
            name = self.nested.__name__ if self.nested else "config"
            base = f"a {name} or a mapping of its fields"
        else:
            base = _RULE_TEXT[self.rule]
        return base + " or null" if self.optional else base


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _meta(spec: Spec) -> dict[str, Spec]:
    return {"spec": spec}


def flag() -> dict[str, Spec]:
    """Metadata of a boolean field."""
    return _meta(Spec("bool"))


def integer(*, ge: int | None = None, le: int | None = None) -> dict[str, Spec]:
    """Metadata of an integer field (``bool`` is refused)."""
    return _meta(Spec("int", ge=ge, le=le))


def optional_integer(*, ge: int | None = None) -> dict[str, Spec]:
    """Metadata of an integer field that may be ``None``."""
    return _meta(Spec("int", optional=True, ge=ge))


def number(
    *, ge: float | None = None, gt: float | None = None, le: float | None = None
) -> dict[str, Spec]:
    """Metadata of a finite float field; integers are accepted and stored as floats."""
    return _meta(Spec("float", ge=ge, gt=gt, le=le))


def text(*, rule: str = "nonblank") -> dict[str, Spec]:
    """Metadata of a string field checked by ``rule`` (nonblank, name, key, char, host)."""
    return _meta(Spec("str", rule=rule))


def optional_text(*, secret: bool = False) -> dict[str, Spec]:
    """Metadata of a non-blank string field that may be ``None``."""
    return _meta(Spec("str", optional=True, secret=secret))


def choice(choices: tuple[str, ...], *, optional: bool = False) -> dict[str, Spec]:
    """Metadata of a closed-set string field; ``str`` enums are accepted by value."""
    return _meta(Spec("choice", choices=choices, optional=optional))


def path(*, optional: bool = True, allow_memory: bool = False) -> dict[str, Spec]:
    """Metadata of a path field; an optional path's ``None`` means "derived"."""
    return _meta(Spec("path", optional=optional, allow_memory=allow_memory))


def strings(*, rule: str = "nonblank", choices: tuple[str, ...] = ()) -> dict[str, Spec]:
    """Metadata of a tuple-of-strings field; lists are accepted and stored as tuples."""
    return _meta(Spec("seq", rule=rule, choices=choices))


def section(cls: type) -> dict[str, Spec]:
    """Metadata of a nested config field (default ``cls()``)."""
    return _meta(Spec("nested", nested=cls))


def spec_of(field: dataclasses.Field[Any]) -> Spec:
    """Return the ``Spec`` stored on a config dataclass field."""
    return field.metadata["spec"]  # type: ignore[no-any-return]


def field_path(obj_or_cls: Any, name: str) -> str:
    """Dotted path of field ``name`` of a config class (``"capture.retry_attempts"``)."""
    prefix = getattr(obj_or_cls, "_section", "")
    return f"{prefix}.{name}" if prefix else name


def mask_url(url: str) -> str:
    """Hide the password of a database URL before it reaches a message."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unparsable url>"


def config_error(
    path: str,
    value: Any,
    allowed: str,
    *,
    code: str = "config_invalid_value",
    reason: str | None = None,
    source: str | None = None,
    secret: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> ConfigurationError:
    """Build (not raise) the standard error for a bad config value."""
    shown = mask_url(value) if secret and isinstance(value, str) else value
    value_text = truncate_value(shown)
    where = f" (from {source})" if source else ""
    why = f" {reason};" if reason else ""
    message = (
        f"invalid value for config field '{path}'{where}:{why} got {value_text}; allowed: {allowed}"
    )
    details: dict[str, Any] = {"field": path, "value": value_text, "allowed": allowed}
    if source:
        details["source"] = source
    if extra:
        details.update(extra)
    return ConfigurationError(message, code=code, details=details)


def _check_text(value: str, rule: str) -> bool:
    if rule == "char":
        return len(value) == 1 and value not in '"\r\n'
    if not value.strip():
        return False
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        return False
    if rule == "name":
        return len(value) <= 512 and not any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value)
    if rule == "key":
        return len(value) <= 255 and _KEY_RE.match(value) is not None
    if rule == "host":
        return not any(ch.isspace() for ch in value)
    return True


def _resolve_path(value: Any) -> Path:
    # Relative paths are resolved against the current directory when the config
    # is built (contract §9.1); abspath also folds "..".
    return Path(os.path.abspath(os.path.expanduser(os.fspath(value))))


def coerce(spec: Spec, value: Any, path: str, *, source: str | None = None) -> Any:
    """Validate a Python value for a field and return its canonical form."""
    if isinstance(value, enum.Enum) and isinstance(value.value, str):
        value = value.value
    if value is None:
        if spec.optional:
            return None
        raise config_error(path, value, spec.describe(), source=source)
    kind = spec.kind
    bad = False
    result: Any = value
    if kind == "bool":
        bad = not isinstance(value, bool)
    elif kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            bad = True
        elif kind == "int" and not isinstance(value, int):
            bad = True
        else:
            result = float(value) if kind == "float" else int(value)
            bad = not _in_bounds(spec, result)
    elif kind == "str":
        bad = not isinstance(value, str) or not _check_text(value, spec.rule)
    elif kind == "choice":
        bad = not isinstance(value, str) or value not in spec.choices
        result = str(value) if not bad else value
    elif kind == "path":
        if spec.allow_memory and value == MEMORY_DATABASE:
            return MEMORY_DATABASE
        if isinstance(value, str | os.PathLike) and os.fspath(value) not in ("", b""):
            try:
                result = _resolve_path(value)
            except (TypeError, ValueError):
                bad = True
        else:
            bad = True
    elif kind == "seq":
        result, bad = _coerce_seq(spec, value)
    elif kind == "nested":
        result, bad = _coerce_nested(spec, value, path, source)
    if bad:
        raise config_error(path, value, spec.describe(), source=source, secret=spec.secret)
    return result


def _in_bounds(spec: Spec, value: float) -> bool:
    if not math.isfinite(value):
        return False
    if spec.ge is not None and value < spec.ge:
        return False
    if spec.gt is not None and value <= spec.gt:
        return False
    return not (spec.le is not None and value > spec.le)


def _coerce_seq(spec: Spec, value: Any) -> tuple[Any, bool]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return value, True
    items: list[str] = []
    for item in value:
        if isinstance(item, enum.Enum) and isinstance(item.value, str):
            item = item.value
        if not isinstance(item, str):
            return value, True
        if spec.choices and item not in spec.choices:
            return value, True
        if not spec.choices and not _check_text(item, spec.rule):
            return value, True
        items.append(item)
    return tuple(items), False


def _coerce_nested(spec: Spec, value: Any, path: str, source: str | None) -> tuple[Any, bool]:
    cls = spec.nested
    assert cls is not None
    if isinstance(value, cls):
        return value, False
    if isinstance(value, Mapping):
        # Imported late: mapping.py builds on this module.
        from contexta.config.mapping import build_section

        return build_section(cls, value, source=source), False
    return value, True


def parse_text(spec: Spec, raw: str, path: str, *, variable: str) -> Any:
    """Parse an environment variable's text for a field (contract §9.2)."""
    stripped = raw if spec.rule == "char" and spec.kind == "str" else raw.strip()
    lowered = stripped.lower()
    source = f"environment variable {variable}"
    value: Any = stripped
    if lowered in _NULL_WORDS and spec.kind not in ("seq",):
        if not spec.optional:
            raise config_error(
                path,
                raw,
                spec.describe(),
                source=source,
                reason="this field cannot be cleared",
                extra={"variable": variable},
            )
        return None
    if spec.kind == "bool":
        if lowered in _TRUE_WORDS:
            value = True
        elif lowered in _FALSE_WORDS:
            value = False
    elif spec.kind == "int" and _INT_RE.match(stripped):
        value = int(stripped)
    elif spec.kind == "float" and _FLOAT_RE.match(stripped):
        value = float(stripped)
    elif spec.kind == "seq":
        value = tuple(part.strip() for part in stripped.split(",") if part.strip())
    try:
        return coerce(spec, value, path, source=source)
    except ConfigurationError as exc:
        details = dict(exc.details or {})
        details["variable"] = variable
        details["value"] = truncate_value(mask_url(raw) if spec.secret else raw)
        new = ConfigurationError(exc.message, code=exc.code, details=details, cause=exc)
        raise new from exc


def validate_fields(obj: Any) -> None:
    """Coerce and validate every field of a frozen config dataclass in place."""
    for fld in dataclasses.fields(obj):
        spec = fld.metadata.get("spec")
        if spec is None:
            continue
        current = getattr(obj, fld.name)
        new = coerce(spec, current, field_path(obj, fld.name))
        if new is not current:
            object.__setattr__(obj, fld.name, new)


def to_plain(obj: Any) -> Any:
    """Nested plain data of a config: dicts, lists, strings for paths."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple | list):
        return [to_plain(item) for item in obj]
    return obj
