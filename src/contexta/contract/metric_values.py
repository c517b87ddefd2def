"""Metric value and step rules (contract.md §3.7, §3.6.2 ``step``).

Values are plain ``int``/``float`` after construction: numpy scalars are converted, ``bool``
and everything else is refused, and ``value_type`` must agree with the value. Non-finite
floats are kept exactly; only the JSON form spells them as text.
"""

from __future__ import annotations

import math
from typing import Any

from contexta.contract._errors import fail
from contexta.contract.enums import INTEGER_METRIC_VALUE_TYPES, METRIC_VALUE_TYPES

__all__ = [
    "MAX_METRIC_STEP",
    "check_metric_step",
    "check_metric_value",
    "metric_value_from_json",
    "metric_value_to_json",
]

MAX_METRIC_STEP = 2**63 - 1

_INT_RANGES: dict[str, tuple[int, int]] = {
    "int": (-(2**63), 2**63 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int8": (-(2**7), 2**7 - 1),
    "uint64": (0, 2**64 - 1),
    "uint32": (0, 2**32 - 1),
    "uint16": (0, 2**16 - 1),
    "uint8": (0, 2**8 - 1),
}
_FLOAT_TYPES = frozenset(METRIC_VALUE_TYPES) - frozenset(INTEGER_METRIC_VALUE_TYPES)
_CODE = "record_invalid_metric_value"
_NON_FINITE_TEXT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _plain_number(value: object) -> int | float | None:
    """int/float for numeric input (numpy scalars included); None for anything else."""
    kind = type(value)
    if kind is float or kind is int:
        return value  # type: ignore[return-value]
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    item = getattr(value, "item", None)
    if kind.__module__ == "numpy" and callable(item):
        try:
            converted = item()
        except Exception:
            return None
        if type(converted) in (int, float):
            return converted  # type: ignore[no-any-return]
    return None


def check_metric_value(value: object, value_type: object, field: str = "value") -> int | float:
    """Return the stored value; raise ``record_invalid_metric_value`` on any disagreement."""
    if type(value_type) is not str and not isinstance(value_type, str):
        fail(_CODE, "value_type", value_type, ", ".join(METRIC_VALUE_TYPES))
    if value_type == "float64" or value_type in _FLOAT_TYPES:
        number = _plain_number(value)
        if number is None:
            fail(_CODE, field, value, "an int or float (bool, str, None are rejected)")
        if type(number) is int:
            try:
                return float(number)
            except OverflowError:
                fail(_CODE, field, value, "an int within the float range", "too large")
        return number
    bounds = _INT_RANGES.get(value_type)
    if bounds is None:
        fail(_CODE, "value_type", value_type, ", ".join(METRIC_VALUE_TYPES))
    number = _plain_number(value)
    if type(number) is not int:
        reason = f"value_type {value_type!r} requires an int value"
        fail(_CODE, field, value, f"an int for value_type {value_type!r}", reason)
    low, high = bounds
    if number < low or number > high:
        fail(_CODE, field, value, f"{low} <= value <= {high} for {value_type}", "out of range")
    return number


def check_metric_step(value: object, field: str = "step") -> int | None:
    if value is None:
        return None
    if type(value) is int:
        number: Any = value
    else:
        number = None if isinstance(value, bool) else _plain_number(value)
        if type(number) is not int:
            fail("record_invalid_metric_step", field, value, f"an int 0..{MAX_METRIC_STEP}")
    if number < 0 or number > MAX_METRIC_STEP:
        fail("record_invalid_metric_step", field, value, f"an int 0..{MAX_METRIC_STEP}")
    return number  # type: ignore[no-any-return]


def metric_value_to_json(value: int | float) -> int | float | str:
    if type(value) is float and not math.isfinite(value):
        if value != value:
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    return value


def metric_value_from_json(value: Any) -> Any:
    if type(value) is str and value in _NON_FINITE_TEXT:
        return _NON_FINITE_TEXT[value]
    return value
