"""``FrozenMap``: the read-only mapping that every interpretation result uses.

``MappingProxyType`` neither pickles nor serializes with ``json.dumps``; results must do both
(they cross processes in worker pools and surfaces render them as JSON). A ``dict`` subclass
whose mutators raise keeps dict-speed lookups, equality with plain dicts, ``json`` support and
pickling, while refusing accidental writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

__all__ = ["EMPTY_MAP", "FrozenMap", "freeze_mapping"]


class FrozenMap(dict[str, Any]):
    """A read-only ``dict``: every mutating method raises ``TypeError``."""

    __slots__ = ()

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        message = "this mapping is read-only (interpretation results are immutable)"
        raise TypeError(message)

    __setitem__ = _readonly
    __delitem__ = _readonly
    __ior__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda item: item[0])))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"

    def __copy__(self) -> FrozenMap:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenMap:
        return self


EMPTY_MAP: FrozenMap = FrozenMap()


def freeze_mapping(value: Mapping[str, Any] | None) -> FrozenMap:
    """Read-only copy of ``value`` (nested mappings and lists frozen too)."""
    if not value:
        return EMPTY_MAP
    if type(value) is FrozenMap:
        return value
    return FrozenMap({key: _freeze_value(item) for key, item in value.items()})


def _freeze_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return freeze_mapping(value)
    if isinstance(value, list | tuple):
        return tuple(_freeze_value(item) for item in value)
    return value
