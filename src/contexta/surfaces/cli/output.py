"""Writing results and errors: the output rules of contract §10.1 and §6.10.

Results go to stdout, everything else to stderr. ``--format json`` prints exactly
one strict JSON document (non-finite floats become ``"NaN"``/``"Infinity"``/
``"-Infinity"``). Text never fails on a terminal whose encoding cannot show a
character: unencodable characters are replaced on output only.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import sys
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import click

__all__ = ["echo", "emit_error", "emit_json", "to_json_value"]

_MAX_DEPTH = 64


def to_json_value(value: Any, _depth: int = 0) -> Any:
    """The JSON form of a result (contract §6.10)."""
    if _depth > _MAX_DEPTH:
        return repr(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, enum.Enum):
        return to_json_value(value.value, _depth + 1)
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json_value(getattr(value, f.name), _depth + 1)
                for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json_value(v, _depth + 1) for v in value]
    text = getattr(value, "text", None)  # StableRef
    if isinstance(text, str):
        return text
    return str(value)


def _encoding(err: bool) -> str:
    stream = sys.stderr if err else sys.stdout
    return getattr(stream, "encoding", None) or "utf-8"


def echo(text: str, *, err: bool = False) -> None:
    """Write one line, replacing what the stream's encoding cannot represent."""
    encoding = _encoding(err)
    try:
        safe = text.encode(encoding, "replace").decode(encoding)
    except LookupError:  # an unknown codec name
        safe = text.encode("ascii", "replace").decode("ascii")
    click.echo(safe, err=err)


def emit_json(value: Any, *, err: bool = False) -> None:
    """One strict JSON document (ASCII-escaped unless the stream speaks UTF-8)."""
    utf8 = _encoding(err).lower().replace("-", "") in {"utf8", "utf_8"}
    text = json.dumps(to_json_value(value), ensure_ascii=not utf8, allow_nan=False)
    echo(text, err=err)


def emit_error(code: str, message: str, details: Any = None, *, as_json: bool) -> None:
    """``ERROR [code]: message`` (one line) or ``{"error": {...}}`` on stderr."""
    if as_json:
        emit_json({"error": {"code": code, "message": message, "details": details}}, err=True)
        return
    one_line = " ".join(message.split()) or code
    echo(f"ERROR [{code}]: {one_line}", err=True)
