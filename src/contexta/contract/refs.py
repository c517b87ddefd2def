"""Stable references (``kind:value``) and the slug rule that builds their components.

Refs are ASCII-only identifiers (contract.md §3.3). A ``StableRef`` equals and hashes like
its text, so ``run.run_ref == "run:p.r"`` holds and refs can key plain dicts. Parsing is
cached because the same run/stage refs are parsed for every record in a hot loop.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import Any

from contexta.contract._errors import fail
from contexta.contract.enums import CORE_REF_SHAPES

__all__ = ["MAX_COMPONENT_LENGTH", "MAX_REF_LENGTH", "StableRef", "coerce_ref", "slugify"]

MAX_REF_LENGTH = 255
MAX_COMPONENT_LENGTH = 63

_COMPONENT = r"[a-z0-9]+(?:[-_][a-z0-9]+)*"
_KIND_RE = re.compile(r"[a-z][a-z0-9_]*")
_COMPONENT_RE = re.compile(_COMPONENT)
_VALUE_RE = re.compile(rf"{_COMPONENT}(?:\.{_COMPONENT})*")
_TEXT_RE = re.compile(rf"([a-z][a-z0-9_]*):({_COMPONENT}(?:\.{_COMPONENT})*)")

_ALLOWED_TEXT = "'kind:value', e.g. 'run:my-project.run-1' (ASCII, at most 255 characters)"
_ALLOWED_KIND = "lower-case ASCII matching ^[a-z][a-z0-9_]*$"
_ALLOWED_VALUE = (
    "dot-separated components of 1-63 characters matching ^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
)

_set = object.__setattr__


class _RefSlots:
    # Mutable twin holding StableRef's slots: filled with plain assignments, then the
    # instance's class is switched to the immutable StableRef (same layout; see _make).
    __slots__ = ("_components", "_kind", "_text", "_value")

    _kind: str
    _value: str
    _text: str
    _components: tuple[str, ...]


class StableRef(_RefSlots):
    """An immutable ``kind:value`` reference; equal to (and hashing like) its text."""

    __slots__ = ()

    def __init__(self, kind: str, value: str) -> None:
        if not isinstance(kind, str) or _KIND_RE.fullmatch(kind) is None:
            fail("stable_ref_invalid_kind", "kind", kind, _ALLOWED_KIND)
        if not isinstance(value, str):
            fail("stable_ref_invalid_value", "value", value, _ALLOWED_VALUE)
        text = f"{kind}:{value}"
        parsed = _parse_cached(text)
        if not isinstance(parsed, StableRef):
            _raise_problem(parsed, "ref", text)
            raise AssertionError  # pragma: no cover - _raise_problem always raises
        _set(self, "_kind", parsed._kind)
        _set(self, "_value", parsed._value)
        _set(self, "_text", parsed._text)
        _set(self, "_components", parsed._components)

    @classmethod
    def parse(cls, text: str | StableRef) -> StableRef:
        """Parse ``kind:value`` text (a ``StableRef`` is returned unchanged)."""
        return coerce_ref(text, "ref")

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def value(self) -> str:
        return self._value

    @property
    def text(self) -> str:
        return self._text

    @property
    def components(self) -> tuple[str, ...]:
        return self._components

    def to_dict(self) -> dict[str, str]:
        return {"kind": self._kind, "value": self._value}

    def __setattr__(self, name: str, value: object) -> None:
        msg = "StableRef is immutable"
        raise AttributeError(msg)

    def __delattr__(self, name: str) -> None:
        msg = "StableRef is immutable"
        raise AttributeError(msg)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"StableRef({self._text!r})"

    def __hash__(self) -> int:
        return hash(self._text)

    def __eq__(self, other: object) -> bool:
        if type(other) is StableRef:
            return self._text == other._text
        if isinstance(other, str):
            return self._text == other
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __lt__(self, other: object) -> bool:
        # Sorting lists of refs by text is common in stores and reports.
        if type(other) is StableRef:
            return self._text < other._text
        if isinstance(other, str):
            return self._text < other
        return NotImplemented

    def __reduce__(self) -> tuple[Any, ...]:
        return (_from_text, (self._text,))

    def __copy__(self) -> StableRef:
        return self

    def __deepcopy__(self, memo: object) -> StableRef:
        return self


def _from_text(text: str) -> StableRef:
    return coerce_ref(text, "ref")


def _make(kind: str, value: str, text: str, components: tuple[str, ...]) -> StableRef:
    ref = _new(_RefSlots)
    ref._kind = kind
    ref._value = value
    ref._text = text
    ref._components = components
    ref.__class__ = StableRef
    return ref  # type: ignore[return-value]


_new = object.__new__


def parse_ref_uncached(text: str) -> StableRef | tuple[str, str, str]:
    """Return the ref, or ``(code, reason, allowed)`` describing why ``text`` is not one."""
    if len(text) > MAX_REF_LENGTH:
        return ("stable_ref_too_long", f"longer than {MAX_REF_LENGTH} characters", _ALLOWED_TEXT)
    match = _TEXT_RE.fullmatch(text)
    if match is None:
        return _diagnose(text)
    kind, value = match.group(1), match.group(2)
    components = tuple(value.split("."))
    for part in components:
        if len(part) > MAX_COMPONENT_LENGTH:
            reason = f"component {part[:20]!r}... longer than {MAX_COMPONENT_LENGTH} characters"
            return ("stable_ref_invalid_value", reason, _ALLOWED_VALUE)
    shapes = CORE_REF_SHAPES.get(kind)
    if shapes is not None and len(components) not in shapes:
        counts = " or ".join(str(n) for n in shapes)
        reason = f"a {kind!r} ref has {counts} components, this one has {len(components)}"
        return ("stable_ref_invalid_shape", reason, f"{kind}:<{counts} components>")
    return _make(kind, value, text, components)


# Refs that repeat (runs, stages, batches) are parsed once; record refs are unique and use
# ``parse_ref_uncached`` so they do not evict the useful entries.
_parse_cached = lru_cache(maxsize=16384)(parse_ref_uncached)


def _diagnose(text: str) -> tuple[str, str, str]:
    if text.count(":") != 1:
        return ("stable_ref_invalid_text", "expected exactly one ':'", _ALLOWED_TEXT)
    kind, value = text.split(":")
    if _KIND_RE.fullmatch(kind) is None or not kind.isascii():
        return ("stable_ref_invalid_kind", f"bad kind {kind!r}", _ALLOWED_KIND)
    return ("stable_ref_invalid_value", f"bad value {value!r}", _ALLOWED_VALUE)


def _raise_problem(problem: tuple[str, str, str], field: str, value: object) -> None:
    code, reason, allowed = problem
    fail(code, field, value, allowed, reason)


def coerce_ref(value: object, field: str, kind: str | None = None) -> StableRef:
    """Return ``value`` as a ``StableRef`` (parsing text), checking ``kind`` when given."""
    if type(value) is StableRef:
        ref = value
    elif isinstance(value, str):
        parsed = _parse_cached(str(value))
        if type(parsed) is not StableRef:
            _raise_problem(parsed, field, value)  # type: ignore[arg-type]
        ref = parsed  # type: ignore[assignment]
    else:
        reason = "a ref must be str or StableRef"
        fail("stable_ref_invalid_text", field, value, _ALLOWED_TEXT, reason)
    if kind is not None and ref._kind != kind:
        fail(
            "stable_ref_kind_mismatch",
            field,
            value,
            f"a ref of kind {kind!r}",
            f"kind {ref._kind!r} where {kind!r} is required",
        )
    return ref


_SLUG_BAD = re.compile(r"[^a-z0-9_-]+")
_SLUG_SEPS = re.compile(r"[-_]+")


def slugify(text: str, max_len: int = MAX_COMPONENT_LENGTH) -> str:
    """Turn any text into one ref component (contract.md §8.2 slug rule).

    NFKD, drop non-ASCII, lower-case, runs of other characters become ``-``, runs of
    separators collapse to their first character, separators stripped at both ends, cut to
    ``max_len``. Text with nothing left becomes ``h-`` plus 8 hex of its SHA-256.
    """
    if not isinstance(text, str):
        fail("context_invalid_name", "text", text, "a str to slugify")
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_BAD.sub("-", ascii_text)
    slug = _SLUG_SEPS.sub(lambda m: m.group(0)[0], slug).strip("-_")
    slug = slug[:max_len].strip("-_")
    if not slug:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        slug = "h-" + digest[:8]
    return slug
