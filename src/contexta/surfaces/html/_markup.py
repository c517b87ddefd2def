"""Escaping and small markup helpers shared by the HTML renderers.

Every data value goes through ``text()`` (or ``attr()``) exactly once, at the point where
it becomes markup, so a run named ``<script>`` is shown as those characters and never
becomes an element (contract §10.4). Markup built here is a ``Markup`` string; plain
``str`` is data and is always escaped.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "Markup",
    "attr",
    "element",
    "format_number",
    "format_value",
    "join",
    "text",
]


class Markup(str):
    """A string that is already safe HTML (built by these helpers, never from data)."""

    __slots__ = ()


def format_number(value: float | int | None, *, digits: int = 4) -> str:
    """Plain-text form of a number: thousands separators for ints, NaN/inf spelled out."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return format_number(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def format_value(value: Any) -> str:
    """Plain-text form of any stored value (numbers, strings, lists, mappings)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value)
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(_json_safe(value), ensure_ascii=False, sort_keys=True)
    return str(value)


def text(value: Any) -> Markup:
    """Escape a data value for element content or a quoted attribute."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(format_value(value), quote=True))


def attr(name: str, value: Any) -> Markup:
    """One ``name="value"`` pair; the name is ours, the value is escaped."""
    return Markup(f' {name}="{text(value)}"')


def join(parts: Iterable[Markup], sep: str = "") -> Markup:
    return Markup(sep.join(parts))


def element(tag: str, body: Any = "", **attrs: Any) -> Markup:
    """``<tag attrs>body</tag>``; ``body`` is escaped unless it is ``Markup``.

    Attribute names come from keyword names (``class_`` → ``class``); ``None`` values are
    left out.
    """
    rendered = "".join(
        attr(key.rstrip("_").replace("_", "-"), value)
        for key, value in attrs.items()
        if value is not None
    )
    return Markup(f"<{tag}{rendered}>{text(body)}</{tag}>")
