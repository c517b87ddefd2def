"""Thresholds of the history checks, per dataset (one object per ``profile`` call)
and per column (``QualityThresholds.columns``).

The defaults are chosen so that a perfectly constant history still flags a real
break (every rule has an absolute floor that does not depend on the baseline's
spread) while ordinary day-to-day noise does not (every rule also demands that
the change exceed ``noise_sigmas`` baseline standard deviations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import NoReturn, TypeVar

from contexta.errors import ValidationError, truncate_value

__all__ = ["ColumnThresholds", "QualityThresholds", "ThresholdsLike", "resolve_thresholds"]


def _reject(field_name: str, value: object, allowed: str) -> NoReturn:
    msg = f"{field_name}: {truncate_value(value)} is not allowed; expected {allowed}"
    raise ValidationError(msg, code="quality_invalid_threshold",
                          details={"field": field_name, "value": truncate_value(value),
                                   "allowed": allowed})


def _check_fraction(name: str, value: object, *, optional: bool, open_low: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        _reject(name, value, "a number in [0, 1]" + (" or None" if optional else ""))
    if value < 0 or value > 1 or (open_low and value == 0):
        _reject(name, value, "a number in (0, 1]" if open_low else "a number in [0, 1]")


def _check_count(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _reject(name, value, "an int >= 0 or None")


@dataclass(frozen=True, slots=True)
class ColumnThresholds:
    """Per-column overrides; ``None`` means "use the dataset's value".

    ``max_null_rate``/``max_zero_rate`` are absolute limits that apply even with
    no history. ``ignore=True`` skips the column in every history rule.
    """

    null_rate_min_increase: float | None = None
    zero_rate_min_increase: float | None = None
    max_null_rate: float | None = None
    max_zero_rate: float | None = None
    detect_constant: bool | None = None
    ignore: bool = False

    def __post_init__(self) -> None:
        prefix = "thresholds.columns[].{}"
        _check_fraction(prefix.format("null_rate_min_increase"), self.null_rate_min_increase,
                        optional=True, open_low=True)
        _check_fraction(prefix.format("zero_rate_min_increase"), self.zero_rate_min_increase,
                        optional=True, open_low=True)
        _check_fraction(prefix.format("max_null_rate"), self.max_null_rate, optional=True)
        _check_fraction(prefix.format("max_zero_rate"), self.max_zero_rate, optional=True)
        if self.detect_constant is not None and not isinstance(self.detect_constant, bool):
            _reject(prefix.format("detect_constant"), self.detect_constant, "a bool or None")
        if not isinstance(self.ignore, bool):
            _reject(prefix.format("ignore"), self.ignore, "a bool")


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """Dataset-level thresholds of the data-quality rules.

    Attributes:
        null_rate_min_increase: a null-rate spike needs at least this absolute
            increase over the largest baseline value (contract default 0.05).
        zero_rate_min_increase: a collapse to zeros needs at least this absolute
            increase in the share of zeros among non-null values over the largest
            baseline share.
        zero_collapse_min_rate: a collapse to zeros needs at least this share of the
            non-null values to be zero (calm winds, 23 % zeros on a quiet day, are
            data, not a collapse).
        zero_collapse_baseline_max: ... and every baseline run to have had at most
            this share of zeros among its non-null values.
        row_count_min_drop: a row-count drop needs at least this fraction fewer
            rows than the smallest baseline run (0.5 = half).
        noise_sigmas: every history rule also needs the change to exceed this many
            population standard deviations of the baseline values (0 with a
            constant history, so the floors above decide alone).
        min_history_runs: baseline runs needed before history rules run.
        constant_min_rows: non-null values a column needs before "became constant"
            or "all zeros" is judged (one or two rows are trivially constant).
        constant_min_baseline_runs: baseline runs (each with the column varying)
            needed before "became constant" is judged: a visibility that was 10.0
            all day after one varied day is weather, not a broken feed.
        detect_constant: flag columns that varied in every baseline run and are
            now a single repeated value.
        detect_schema_change: compare the schema with the latest baseline.
        min_rows: absolute minimum row count (no history needed).
        max_null_rate, max_zero_rate: absolute per-column maxima for every column.
        columns: per-column overrides, by exact column name.
    """

    null_rate_min_increase: float = 0.05
    zero_rate_min_increase: float = 0.2
    zero_collapse_min_rate: float = 0.95
    zero_collapse_baseline_max: float = 0.8
    row_count_min_drop: float = 0.5
    noise_sigmas: float = 4.0
    min_history_runs: int = 1
    constant_min_rows: int = 10
    constant_min_baseline_runs: int = 3
    detect_constant: bool = True
    detect_schema_change: bool = True
    min_rows: int | None = None
    max_null_rate: float | None = None
    max_zero_rate: float | None = None
    columns: Mapping[str, ColumnThresholds] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_fraction("thresholds.null_rate_min_increase", self.null_rate_min_increase,
                        optional=False, open_low=True)
        _check_fraction("thresholds.zero_rate_min_increase", self.zero_rate_min_increase,
                        optional=False, open_low=True)
        _check_fraction("thresholds.zero_collapse_min_rate", self.zero_collapse_min_rate,
                        optional=False, open_low=True)
        _check_fraction("thresholds.zero_collapse_baseline_max",
                        self.zero_collapse_baseline_max, optional=False)
        _check_fraction("thresholds.row_count_min_drop", self.row_count_min_drop,
                        optional=False, open_low=True)
        sigmas = self.noise_sigmas
        if isinstance(sigmas, bool) or not isinstance(sigmas, int | float) or not (
            math.isfinite(sigmas) and sigmas >= 0
        ):
            _reject("thresholds.noise_sigmas", sigmas, "a finite number >= 0")
        if isinstance(self.min_history_runs, bool) or not isinstance(self.min_history_runs, int) \
                or self.min_history_runs < 1:
            _reject("thresholds.min_history_runs", self.min_history_runs, "an int >= 1")
        _check_count("thresholds.constant_min_rows", self.constant_min_rows)
        if isinstance(self.constant_min_baseline_runs, bool) or not isinstance(
                self.constant_min_baseline_runs, int) or self.constant_min_baseline_runs < 1:
            _reject("thresholds.constant_min_baseline_runs", self.constant_min_baseline_runs,
                    "an int >= 1")
        _check_count("thresholds.min_rows", self.min_rows)
        _check_fraction("thresholds.max_null_rate", self.max_null_rate, optional=True)
        _check_fraction("thresholds.max_zero_rate", self.max_zero_rate, optional=True)
        for flag in ("detect_constant", "detect_schema_change"):
            if not isinstance(getattr(self, flag), bool):
                _reject(f"thresholds.{flag}", getattr(self, flag), "a bool")
        if not isinstance(self.columns, Mapping):
            _reject("thresholds.columns", self.columns,
                    "a mapping of column name to ColumnThresholds")
        columns: dict[str, ColumnThresholds] = {}
        for name, value in self.columns.items():
            if not isinstance(name, str):
                _reject("thresholds.columns", name, "column names as str")
            columns[name] = _column_thresholds(name, value)
        object.__setattr__(self, "columns", MappingProxyType(columns))

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> QualityThresholds:
        """Build from a plain mapping (for example a config file section)."""
        if not isinstance(data, Mapping):
            _reject("thresholds", data, "a QualityThresholds or a mapping of its fields")
        known = {item.name for item in fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            _reject("thresholds", unknown, f"field names from {sorted(known)}")
        return cls(**data)  # type: ignore[arg-type]

    def for_column(self, name: str) -> ColumnThresholds:
        """Column thresholds with the dataset values filled in."""
        own = self.columns.get(name, ColumnThresholds())
        return replace(
            own,
            null_rate_min_increase=_first(own.null_rate_min_increase, self.null_rate_min_increase),
            zero_rate_min_increase=_first(own.zero_rate_min_increase, self.zero_rate_min_increase),
            max_null_rate=_first(own.max_null_rate, self.max_null_rate),
            max_zero_rate=_first(own.max_zero_rate, self.max_zero_rate),
            detect_constant=_first(own.detect_constant, self.detect_constant),
        )


ThresholdsLike = QualityThresholds | Mapping[str, object] | None
_T = TypeVar("_T")


def _first(own: _T | None, default: _T | None) -> _T | None:
    return default if own is None else own


def _column_thresholds(name: str, value: object) -> ColumnThresholds:
    if isinstance(value, ColumnThresholds):
        return value
    if isinstance(value, Mapping):
        known = {item.name for item in fields(ColumnThresholds)}
        unknown = sorted(str(key) for key in value if key not in known)
        if unknown:
            _reject(f"thresholds.columns[{name!r}]", unknown, f"field names from {sorted(known)}")
        return ColumnThresholds(**value)
    _reject(f"thresholds.columns[{name!r}]", value, "a ColumnThresholds or a mapping")


def resolve_thresholds(value: ThresholdsLike) -> QualityThresholds:
    """``None`` → defaults; a mapping → ``QualityThresholds.from_mapping``."""
    if value is None:
        return QualityThresholds()
    if isinstance(value, QualityThresholds):
        return value
    if isinstance(value, Mapping):
        return QualityThresholds.from_mapping(value)
    _reject("thresholds", value, "a QualityThresholds, a mapping of its fields, or None")
