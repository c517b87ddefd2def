"""What every contract model shares: equality by canonical JSON, ``to_dict``, common checks.

Each model's ``_payload`` is generated once per class from a small field-kind table, so
turning a record into JSON is a single dict display plus one C-level ``json`` call. Keys are
emitted already sorted, which lets the encoder skip sorting (contract.md §3.8).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from json import encoder as _json_encoder
from typing import Any, TypeVar, dataclass_transform

from contexta.contract._errors import fail
from contexta.contract._mapping import FrozenMapping
from contexta.contract.enums import SCHEMA_VERSION
from contexta.contract.metric_values import metric_value_to_json

__all__ = [
    "ContractModel",
    "canonical_mapping_json",
    "check_extensions",
    "check_schema_version",
    "encode_sorted",
    "encode_trusted",
    "model",
    "thaw",
]

_T = TypeVar("_T")

# Payload dicts of models are built in sorted key order, so no sort is needed here.
encode_trusted = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=False
).encode
encode_sorted = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True
).encode


class ContractModel:
    """Base of every contract model: equal iff canonical JSON texts are equal."""

    __slots__ = ()

    def _payload(self) -> dict[str, Any]:  # replaced per class by ``model``
        raise NotImplementedError

    def _json(self) -> str:  # replaced per class by ``model``
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (``None`` included); equals ``to_payload(self)``."""
        return self._payload()

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return NotImplemented
        return self._json() == other._json()

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self._json())

    def __reduce__(self) -> tuple[Any, ...]:
        # Field values are already validated and normalized: restore them as they are.
        names = type(self)._field_names  # type: ignore[attr-defined]
        return (_restore, (type(self), tuple(self.__getattribute__(n) for n in names)))

    def __copy__(self) -> ContractModel:
        return self

    def __deepcopy__(self, memo: object) -> ContractModel:
        return self


def _restore(cls: type, values: tuple[Any, ...]) -> Any:
    obj: Any = object.__new__(cls)
    for name, value in zip(cls._field_names, values, strict=True):  # type: ignore[attr-defined]
        object.__setattr__(obj, name, value)
    return obj


def thaw(value: Any) -> Any:
    """JSON-ready copy of a frozen JSON value: mappings to dicts, tuples to lists."""
    if type(value) is FrozenMapping:
        return {key: thaw(item) for key, item in value._data.items()}
    if type(value) is tuple:
        return [thaw(item) for item in value]
    return value


def _thaw_mapping(value: FrozenMapping) -> dict[str, Any]:
    data = value._data
    if not data:
        return {}
    if value._json:
        return {key: thaw(item) for key, item in data.items()}
    return dict(data)


def _json_mapping(value: FrozenMapping) -> str:
    """Canonical JSON of a frozen mapping, computed once per mapping."""
    text = value._text
    if text is None:
        text = encode_trusted(_thaw_mapping(value)) if value._data else "{}"
        object.__setattr__(value, "_text", text)
    return text


canonical_mapping_json = _json_mapping

_quote: Callable[[str], str] = (
    getattr(_json_encoder, "c_encode_basestring", None) or _json_encoder.py_encode_basestring
)


def _json_value(value: Any) -> str:
    """JSON of one scalar field whose text may need escaping."""
    if value is None:
        return "null"
    if type(value) is str:
        return _quote(value)
    return encode_trusted(value)


def _json_metric(value: Any) -> str:
    if type(value) is float:
        if value - value == 0.0:  # finite
            return float.__repr__(value)
        return '"NaN"' if value != value else ('"Infinity"' if value > 0 else '"-Infinity"')
    return int.__repr__(value)


# How each field kind serializes: (payload expression, JSON statements producing ``v``).
# ``s`` marks strings the validators guarantee need no JSON escaping (enums, timestamps,
# keys, tokens, ref text), so they are pasted between quotes without an encoder call.
_PAYLOAD: dict[str, str] = {
    "v": "self.{0}",
    "s": "self.{0}",
    "so": "self.{0}",
    "i": "self.{0}",
    "R": "self.{0}._text",
    "r": "(None if self.{0} is None else self.{0}._text)",
    "rs": "[r._text for r in self.{0}]",
    "t": "list(self.{0})",
    "m": "_thaw_mapping(self.{0})",
    "n": "self.{0}._payload()",
    "x": "([e._payload() for e in self.{0}] if self.{0} else [])",
    "mv": "_metric_out(self.{0})",
}
_JSON: dict[str, str] = {
    "v": "_json_value(self.{0})",
    "s": "'\"' + self.{0} + '\"'",
    "so": "('null' if self.{0} is None else '\"' + self.{0} + '\"')",
    "i": "('null' if self.{0} is None else int.__repr__(self.{0}))",
    "R": "'\"' + self.{0}._text + '\"'",
    "r": "('null' if self.{0} is None else '\"' + self.{0}._text + '\"')",
    "rs": "'[' + ','.join(['\"' + r._text + '\"' for r in self.{0}]) + ']'",
    "t": "encode_trusted(list(self.{0}))",
    "m": "_json_mapping(self.{0})",
    "n": "self.{0}._json()",
    "x": "('[' + ','.join([e._json() for e in self.{0}]) + ']' if self.{0} else '[]')",
    "mv": "_json_metric(self.{0})",
}


@dataclass_transform(eq_default=False, frozen_default=True)
def model(**kinds: str) -> Callable[[type[_T]], type[_T]]:
    """Make a frozen slotted dataclass with fast construction and generated serializers.

    ``kinds`` maps every field to how it serializes: ``v`` any JSON scalar, ``s``/``so``
    required/optional escape-free string, ``i`` optional int, ``R``/``r`` required or
    optional ref, ``rs`` tuple of refs, ``t`` tuple of strings, ``m`` frozen mapping, ``n``
    nested model, ``x`` tuple of nested models, ``mv`` metric value.

    Construction speed matters (records are built in hot loops): a frozen dataclass
    ``__init__`` pays an ``object.__setattr__`` call per field. Instead the generated
    ``__new__`` fills an instance of a mutable twin class holding the same slots, runs
    ``__post_init__``, then switches ``__class__`` to the frozen model (same layout).
    """

    def wrap(cls: type[_T]) -> type[_T]:
        names = list(inspect.get_annotations(cls))
        if sorted(names) != sorted(kinds):
            msg = f"{cls.__name__}: serialization kinds do not match fields"
            raise RuntimeError(msg)
        twin = type(f"_{cls.__name__}Slots", (), {"__slots__": tuple(names)})
        namespace = {
            key: value
            for key, value in cls.__dict__.items()
            if key not in ("__dict__", "__weakref__")
        }
        namespace["__slots__"] = ()
        rebuilt: Any = type(cls.__name__, (*cls.__bases__, twin), namespace)
        built = dataclasses.dataclass(frozen=True, init=False, eq=False)(rebuilt)
        fields = dataclasses.fields(built)
        for name in names:
            # Class-level defaults would shadow the twin's slot descriptors.
            if name in built.__dict__:
                delattr(built, name)
        _install(built, twin, [f.name for f in fields], fields, kinds)
        return built

    return wrap


def _install(cls: type, twin: type, names: list[str], fields: Any, kinds: dict[str, str]) -> None:
    env: dict[str, Any] = {
        "_thaw_mapping": _thaw_mapping,
        "_metric_out": metric_value_to_json,
        "_json_value": _json_value,
        "_json_metric": _json_metric,
        "_json_mapping": _json_mapping,
        "encode_trusted": encode_trusted,
        "_new": object.__new__,
        "_Twin": twin,
        "_post": cls.__dict__.get("__post_init__"),
    }
    params = []
    for field in fields:
        if field.default is not dataclasses.MISSING:
            env[f"_d_{field.name}"] = field.default
            params.append(f"{field.name}=_d_{field.name}")
        else:
            params.append(field.name)
    body = [f"    self.{name} = {name}" for name in names]
    if env["_post"] is not None:
        body.append("    _post(self)")
    ordered = sorted(names)
    payload = ", ".join(f"{n!r}: {_PAYLOAD[kinds[n]].format(n)}" for n in ordered)
    pieces = [f"'\"{n}\":' + {_JSON[kinds[n]].format(n)}" for n in ordered]
    source = "\n".join(
        [
            f"def __new__(cls, {', '.join(params)}):",
            "    self = _new(_Twin)",
            *body,
            "    self.__class__ = cls",
            "    return self",
            f"def _trusted(cls, {', '.join(params)}):",
            "    self = _new(_Twin)",
            *[f"    self.{name} = {name}" for name in names],
            "    self.__class__ = cls",
            "    return self",
            "def _payload(self):",
            f"    return {{{payload}}}",
            "def _json(self):",
            "    return '{' + ','.join([" + ", ".join(pieces) + "]) + '}'",
        ]
    )
    exec(compile(source, f"<contract model {cls.__name__}>", "exec"), env)
    cls.__new__ = env["__new__"]  # type: ignore[method-assign]
    # Internal: construction without checks, for values the library built itself and
    # already holds in normalized form (capture's record envelopes).
    cls._trusted = classmethod(env["_trusted"])  # type: ignore[attr-defined]
    cls._payload = env["_payload"]  # type: ignore[attr-defined]
    cls._json = env["_json"]  # type: ignore[attr-defined]
    cls._field_names = tuple(names)  # type: ignore[attr-defined]
    cls._field_set = frozenset(names)  # type: ignore[attr-defined]
    cls._field_map = {name: name for name in names}  # type: ignore[attr-defined]


def check_schema_version(value: object) -> None:
    if value is not SCHEMA_VERSION and (type(value) is not str or value != SCHEMA_VERSION):
        fail(
            "contract_unsupported_schema_version",
            "schema_version",
            value,
            f"'{SCHEMA_VERSION}'",
            "unsupported schema version",
        )


def check_extensions(value: Any) -> tuple[Any, ...]:
    """Tuple of ``ExtensionFieldSet`` with unique namespaces (mappings are converted)."""
    kind = type(value)
    if (kind is list or kind is tuple) and not value:
        return ()
    from contexta.contract.extensions import ExtensionFieldSet

    if isinstance(value, (str, bytes, Mapping)) or not _is_sequence(value):
        fail(
            "extension_invalid_namespace",
            "extensions",
            value,
            "a tuple of ExtensionFieldSet",
        )
    result = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if isinstance(item, Mapping):
            item = ExtensionFieldSet._from_mapping(item, f"extensions[{index}]")
        elif type(item) is not ExtensionFieldSet:
            fail(
                "extension_invalid_namespace",
                f"extensions[{index}]",
                item,
                "an ExtensionFieldSet",
            )
        if item.namespace in seen:
            fail(
                "extension_invalid_namespace",
                f"extensions[{index}].namespace",
                item.namespace,
                "namespaces unique within one model",
                "duplicate namespace",
            )
        seen.add(item.namespace)
        result.append(item)
    return tuple(result)


def _is_sequence(value: object) -> bool:
    return isinstance(value, Sequence)
