"""Text, key, token, tag-map and JSON-mapping rules (contract.md §3.2).

Checks are regex searches in C: the hot path for an ordinary ASCII string is one or two
``re`` calls. Valid keys are cached because producers repeat them for every record.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from contexta.contract._errors import fail
from contexta.contract._mapping import EMPTY_MAPPING, FrozenMapping

__all__ = [
    "MAX_JSON_DEPTH",
    "check_component",
    "check_display_name",
    "check_free_text",
    "check_key",
    "check_short_text",
    "check_token",
    "freeze_json_mapping",
    "freeze_json_value",
    "freeze_str_mapping",
    "non_finite_to_text",
]

MAX_JSON_DEPTH = 32
_MAX_INT_BITS = 8192  # keeps int -> str conversion far below Python's 4300-digit guard

_CC_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FREE_TEXT_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:[./][A-Za-z0-9_-]+)*")
_TOKEN_RE = re.compile(r"[a-z][a-z0-9_]*")
_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")

_ALLOWED_KEY = (
    "^[A-Za-z_][A-Za-z0-9_-]*(?:[./][A-Za-z0-9_-]+)*$, at most 255 characters "
    "(e.g. 'val_loss', 'train/loss', 'layer.0.weight')"
)
_ALLOWED_TOKEN = "^[a-z][a-z0-9_]*$, at most 64 characters"
_ALLOWED_COMPONENT = "a ref component: ^[a-z0-9]+(?:[-_][a-z0-9]+)*$, 1-63 characters"


def check_display_name(value: object, field: str, code: str = "context_invalid_name") -> str:
    """Non-blank, ≤ 512 characters, no control characters, no lone surrogates."""
    if type(value) is not str and not isinstance(value, str):
        fail(code, field, value, "a str display name")
    if len(value) > 512:
        fail(code, field, value, "at most 512 characters", "too long")
    if _CC_OR_SURROGATE.search(value) is not None:
        fail(code, field, value, "text without control characters", "control character")
    if not value or value.isspace():
        fail(code, field, value, "a non-blank name", "blank")
    return str(value)


def check_free_text(
    value: object,
    field: str,
    *,
    max_len: int = 100_000,
    allow_blank: bool = True,
    code: str = "context_invalid_string",
) -> str:
    """Free text: ≤ ``max_len``, only ``\\n``/``\\r``/``\\t`` among control characters."""
    if not isinstance(value, str):
        fail(code, field, value, "a str")
    if len(value) > max_len:
        fail(code, field, value, f"at most {max_len} characters", "too long")
    if _FREE_TEXT_BAD.search(value) is not None:
        fail(code, field, value, "text without control characters other than \\n \\r \\t")
    if not allow_blank and (not value or value.isspace()):
        fail(code, field, value, "non-blank text", "blank")
    return str(value)


def check_short_text(
    value: object, field: str, max_len: int, code: str = "context_invalid_string"
) -> str:
    """Non-blank single-line text of at most ``max_len`` characters."""
    if not isinstance(value, str):
        fail(code, field, value, f"a non-blank str of at most {max_len} characters")
    if not value or value.isspace() or len(value) > max_len:
        fail(code, field, value, f"a non-blank str of at most {max_len} characters")
    if _CC_OR_SURROGATE.search(value) is not None:
        fail(code, field, value, "text without control characters", "control character")
    return str(value)


@lru_cache(maxsize=8192)
def _is_key(value: str) -> bool:
    return len(value) <= 255 and _KEY_RE.fullmatch(value) is not None


def check_key(value: object, field: str, code: str = "record_invalid_key") -> str:
    """Keys name metrics, events, issues, producers, policies and slices."""
    if type(value) is str:
        if _is_key(value):
            return value
    elif isinstance(value, str) and _is_key(str(value)):
        return str(value)
    fail(code, field, value, _ALLOWED_KEY)


def check_token(value: object, field: str, code: str = "context_invalid_string") -> str:
    if type(value) is str and value in _GOOD_TOKENS:
        return value
    if isinstance(value, str) and len(value) <= 64 and _TOKEN_RE.fullmatch(value) is not None:
        if type(value) is str and len(_GOOD_TOKENS) < 4096:
            _GOOD_TOKENS.add(value)
        return str(value)
    fail(code, field, value, _ALLOWED_TOKEN)


_GOOD_TOKENS: set[str] = set()  # tokens repeat (summary_basis on every metric)


def check_component(value: object, field: str, code: str = "context_invalid_name") -> str:
    """Names that become the last ref component (stage_name, batch_name, ...)."""
    if isinstance(value, str) and len(value) <= 63 and _COMPONENT_RE.fullmatch(value) is not None:
        return str(value)
    fail(code, field, value, _ALLOWED_COMPONENT)


def freeze_str_mapping(
    value: object,
    field: str,
    *,
    max_value_len: int = 4096,
    code: str = "context_invalid_string",
) -> FrozenMapping:
    """Tag maps, packages, environment variables: ``str -> str`` with sorted keys."""
    if value is None or (type(value) is dict and not value):
        return EMPTY_MAPPING
    if not isinstance(value, Mapping):
        fail(code, field, value, "a mapping of str to str, or None")
    if not value:
        return EMPTY_MAPPING
    items = []
    clean_keys, clean_values = _CLEAN_TAG_KEYS, _CLEAN_TAG_VALUES
    for key, item in value.items():
        if type(key) is not str or key not in clean_keys:
            if not isinstance(key, str) or not key or key.isspace() or len(key) > 255:
                fail(code, f"{field} key", key, "non-blank str keys of at most 255 characters")
            if _CC_OR_SURROGATE.search(key) is not None:
                fail(code, f"{field} key", key, "keys without control characters")
            if type(key) is str and len(clean_keys) < _CLEAN_LIMIT:
                clean_keys.add(key)
        if type(item) is not str or len(item) > max_value_len or item not in clean_values:
            if not isinstance(item, str) or len(item) > max_value_len:
                fail(code, f"{field}.{key}", item, f"a str of at most {max_value_len} characters")
            if _NUL_OR_SURROGATE.search(item) is not None:
                fail(code, f"{field}.{key}", item, "text without NUL or lone surrogates")
            if type(item) is str and len(item) <= 255 and len(clean_values) < _CLEAN_LIMIT:
                clean_values.add(item)
        items.append((str(key), str(item)))
    items.sort()
    return FrozenMapping._trusted(dict(items), False)


# Tag keys and values repeat across records (``dq.stat`` -> ``null_rate``, ...): strings
# that passed the checks once skip the regular expressions afterwards.
_CLEAN_LIMIT = 8192
_CLEAN_TAG_KEYS: set[str] = set()
_CLEAN_TAG_VALUES: set[str] = set()


def non_finite_to_text(value: float) -> str:
    """The JSON-safe spelling of a non-finite float (contract.md §3.8)."""
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


_JSON_ALLOWED = "JSON values: None, bool, int, float, str, list/tuple, str-keyed mapping"


def freeze_json_value(value: Any, field: str, depth: int = 0) -> Any:
    """Validate and freeze one JSON value: tuples for sequences, FrozenMapping for maps."""
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is str:
        if _SURROGATE.search(value) is not None:
            fail("context_invalid_string", field, value, "text without lone surrogates")
        return value
    if kind is float:
        return value if math.isfinite(value) else non_finite_to_text(value)
    if kind is int:
        if value.bit_length() > _MAX_INT_BITS:
            fail("context_invalid_string", field, value, "integers below 2**8192")
        return value
    if depth >= MAX_JSON_DEPTH:
        fail("context_invalid_string", field, "...", f"at most {MAX_JSON_DEPTH} nesting levels")
    if isinstance(value, FrozenMapping) and value._json:
        return value
    if isinstance(value, Mapping):
        return _freeze_mapping(value, field, depth + 1)
    if kind is tuple or kind is list:
        return tuple(
            freeze_json_value(item, f"{field}[{index}]", depth + 1)
            for index, item in enumerate(value)
        )
    # Subclasses and numpy scalars: bool first (bool is an int subclass).
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return freeze_json_value(int(value), field, depth)
    if isinstance(value, float):
        return freeze_json_value(float(value), field, depth)
    if isinstance(value, str):
        return freeze_json_value(str(value), field, depth)
    if isinstance(value, (list, tuple)):
        return freeze_json_value(list(value), field, depth)
    # Array-likes (numpy arrays, without importing numpy): ``ndim >= 1`` becomes a list via
    # ``tolist()``; 0-d arrays and numpy scalars become one Python scalar via ``item()``.
    # A conversion that fails is reported as the contract error, never a raw exception.
    ndim = getattr(value, "ndim", None)
    tolist = getattr(value, "tolist", None)
    if type(ndim) is int and ndim >= 1 and callable(tolist):
        try:
            converted = tolist()
        except Exception as exc:
            fail("context_invalid_string", field, value, _JSON_ALLOWED, f"tolist() failed: {exc}")
        if type(converted) is list:
            return freeze_json_value(converted, field, depth)
    else:
        item = getattr(value, "item", None)
        if callable(item) and (ndim == 0 or kind.__module__ == "numpy"):
            try:
                converted = item()
            except Exception as exc:
                fail("context_invalid_string", field, value, _JSON_ALLOWED, f"item() failed: {exc}")
            if type(converted) in (bool, int, float, str):
                return freeze_json_value(converted, field, depth)
    fail("context_invalid_string", field, value, _JSON_ALLOWED, f"{kind.__name__} is not JSON")


def _freeze_mapping(value: Mapping[Any, Any], field: str, depth: int) -> FrozenMapping:
    items = []
    for key, item in value.items():
        if not isinstance(key, str):
            fail("context_invalid_string", f"{field} key", key, "str keys")
        if _SURROGATE.search(key) is not None:
            fail("context_invalid_string", f"{field} key", key, "keys without lone surrogates")
        items.append((str(key), freeze_json_value(item, f"{field}.{key}", depth)))
    items.sort(key=_first)
    return FrozenMapping._trusted(dict(items), True)


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


def freeze_json_mapping(value: object, field: str) -> FrozenMapping:
    """``attributes``/``metadata``/extension fields; ``None`` becomes an empty mapping."""
    if value is None or (type(value) is dict and not value):
        return EMPTY_MAPPING
    if type(value) is FrozenMapping and value._json:
        return value
    if not isinstance(value, Mapping):
        fail("context_invalid_string", field, value, "a str-keyed mapping of JSON values")
    if not value:
        return EMPTY_MAPPING
    return _freeze_mapping(value, field, 1)
