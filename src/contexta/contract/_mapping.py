"""A small immutable mapping that pickles and hashes (``MappingProxyType`` does neither).

Contract models store tags, attributes and metadata as read-only mappings with sorted keys
(contract.md §3.1). Keys are always ``str`` by the time a ``FrozenMapping`` is built.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["EMPTY_MAPPING", "FrozenMapping"]


class FrozenMapping(Mapping[str, Any]):
    """Read-only ``str``-keyed mapping whose iteration order is sorted by key."""

    __slots__ = ("_data", "_json", "_text")

    _data: dict[str, Any]
    _json: bool
    _text: str | None  # canonical JSON, cached by the serializer (it is asked twice per record)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        items = sorted(dict(data or {}).items())
        object.__setattr__(self, "_data", dict(items))
        object.__setattr__(self, "_json", False)
        object.__setattr__(self, "_text", None)

    @classmethod
    def _trusted(cls, data: dict[str, Any], json_checked: bool) -> FrozenMapping:
        # Internal constructor: ``data`` is already validated and in sorted key order.
        obj = object.__new__(cls)
        object.__setattr__(obj, "_data", data)
        object.__setattr__(obj, "_json", json_checked)
        object.__setattr__(obj, "_text", None)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        msg = "FrozenMapping is immutable"
        raise AttributeError(msg)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._data
        except TypeError:  # unhashable probe
            return False

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self._data.get(key, default)
        except TypeError:
            return default

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMapping):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._data, self._json))

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable shallow copy."""
        return dict(self._data)


def _rebuild(data: dict[str, Any], json_checked: bool) -> FrozenMapping:
    return FrozenMapping._trusted(dict(data), json_checked)


EMPTY_MAPPING = FrozenMapping._trusted({}, True)
