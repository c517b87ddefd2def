"""``profile_frame``: one entry point for pandas, polars (eager and lazy) and Arrow.

The frame goes through ``narwhals.from_native``, which gives the schema and the column
kinds. Statistics come from one of two private modules, each a single pass over the
data: plain NumPy-backed pandas columns from ``_stats_pandas`` (a few vectorised NumPy
calls per column kind; narwhals' pandas backend costs ~0.3 ms per column and statistic),
every other column from ``_stats_narwhals`` (one multi-column expression per statistic,
all in one ``select``). Frames longer than ``DISTINCT_EXACT_ROWS`` count distinct values
on a sample of rows (``contexta.quality.distinct``). Lazy frames are collected first: a
profile reads every value anyway.

A plain ``pandas.DataFrame`` whose columns all take the NumPy path skips narwhals
(``_profile_pandas``): wrapping the frame and mapping its dtypes cost more than the
statistics of a 900-row frame, and importing narwhals costs ~45 ms once. Its dtype
strings and kinds are narwhals' own (known for the everyday dtypes, cached per pandas
dtype the first time narwhals mapped any other), so the profile is the same.

NaN in a float column counts as null. Only plain Python scalars leave this module.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import hashlib
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from contexta.errors import ContextaError, DependencyError, ValidationError, truncate_value
from contexta.quality._stats_narwhals import ColumnSpec, ColumnStats
from contexta.quality._stats_narwhals import aggregate as aggregate_exprs
from contexta.quality._stats_narwhals import sampled_distinct as sampled_distinct_exprs
from contexta.quality.distinct import DISTINCT_EXACT_ROWS, estimate_distinct, sample_positions
from contexta.quality.models import ColumnKind, ColumnProfile, FrameProfile

__all__ = ["duplicate_column_renames", "profile_frame", "schema_fingerprint", "storable_name",
           "storable_profile"]

_SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates: refused in stored text

_PANDAS = "pandas"  # str(nw.Implementation.PANDAS.value): FrameProfile.backend

# Up to this many rows NaN is turned into null before aggregating (one pass); longer
# frames re-aggregate only the float columns found to hold NaN.
_FILL_NAN_ROWS = DISTINCT_EXACT_ROWS


def _narwhals() -> Any:
    try:
        import narwhals.stable.v2 as nw
    except ImportError as exc:  # pragma: no cover - depends on the install
        msg = ("profiling dataframes needs narwhals; "
               "install the extra: pip install 'contexta[quality]'")
        raise DependencyError(msg, code="dependency_missing", cause=exc) from exc
    return nw


_narwhals_found = False


def _require_narwhals() -> None:
    """``DependencyError`` when narwhals is missing, as ``_narwhals`` raises it, without
    importing narwhals: a plain pandas frame of everyday dtypes is profiled without it."""
    global _narwhals_found
    if _narwhals_found:
        return
    if "narwhals" not in sys.modules:
        import importlib.util

        if importlib.util.find_spec("narwhals") is None:
            _narwhals()  # raises DependencyError
    _narwhals_found = True


def schema_fingerprint(schema: Sequence[tuple[str, str]]) -> str:
    """SHA-256 hex digest of the ordered ``name:dtype`` lines."""
    text = "\n".join(f"{name}:{dtype}" for name, dtype in schema)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _kind(nw: Any, dtype: Any) -> ColumnKind:
    if dtype == nw.Boolean:
        return "boolean"
    if dtype.is_numeric():
        return "numeric"
    if dtype in (nw.String, nw.Categorical, nw.Enum):
        return "string"
    if dtype in (nw.Datetime, nw.Date):
        return "temporal"
    return "other"


_EXACT_PLAIN = frozenset({int, str, bool, type(None)})


def _plain(value: Any) -> int | float | str | bool | None:
    """A backend scalar as a plain Python value (``None`` for NaN/NaT)."""
    kind = type(value)
    if kind is float:  # the common cases first: exactly the answers of the checks below
        return None if value != value else value
    if kind in _EXACT_PLAIN:
        return value  # type: ignore[no-any-return]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, _dt.datetime | _dt.date):
        text = value.isoformat()
        return None if text == "NaT" else text
    if type(value).__name__ in {"NaTType", "NAType"}:
        return None
    if type(value).__name__ == "datetime64":  # numpy: .item() of ns precision is an int
        text = str(value)
        return None if text == "NaT" else text
    item = getattr(value, "item", None)
    if callable(item):
        return _plain(item())
    return str(value)


def _count(value: Any) -> int:
    if type(value) is int:
        return value  # type: ignore[no-any-return]
    plain = _plain(value)
    return int(plain) if isinstance(plain, int | float) else 0


def _number(value: Any) -> int | float | None:
    kind = type(value)
    if kind is float:  # the common cases first: exactly the answers of the lines below
        return None if value != value else value  # type: ignore[no-any-return]
    if kind is int:
        return value  # type: ignore[no-any-return]
    if value is None:
        return None
    plain = _plain(value)
    if isinstance(plain, bool):
        return int(plain)
    return plain if isinstance(plain, int | float) else None


def _without_overflow(minimum: float | None, maximum: float | None, mean: float | None,
                      std: float | None) -> tuple[float | None, float | None]:
    """Mean and std, with sums that overflowed float64 dropped rather than stored as inf.

    Finite values near the float limit (1e308) sum to inf; a mean outside ``[min, max]``
    is then a wrong answer that would flag ``non_finite_metric`` on finite data, so
    it is left out (``None``), except for a constant column whose moments are exact.
    """
    if minimum is None or maximum is None or not (
            math.isfinite(minimum) and math.isfinite(maximum)):
        return mean, std
    if minimum == maximum:
        return float(minimum), 0.0 if std is not None else None
    if mean is not None and not math.isfinite(mean):
        return None, None
    if std is not None and not math.isfinite(std):
        return mean, None
    return mean, std


def _build_column(spec: ColumnSpec, row_count: int, stats: dict[str, Any], *,
                  exact_distinct: bool) -> ColumnProfile:
    kind: ColumnKind = spec.kind  # type: ignore[assignment]
    null_count = _count(stats.get("null"))
    null_rate = null_count / row_count if row_count else None
    zero_count = zero_rate = mean = std = None
    minimum: int | float | str | None = None
    maximum: int | float | str | None = None
    if kind in ("numeric", "boolean"):
        zero_count = _count(stats.get("zero"))
        zero_rate = zero_count / row_count if row_count else None
        minimum = _number(stats.get("min"))
        maximum = _number(stats.get("max"))
        mean_value = _number(stats.get("mean"))
        std_value = _number(stats.get("std"))
        mean = None if mean_value is None else float(mean_value)
        std = None if std_value is None else float(std_value)
        mean, std = _without_overflow(minimum, maximum, mean, std)
    elif kind == "temporal":
        min_value, max_value = _plain(stats.get("min")), _plain(stats.get("max"))
        minimum = min_value if isinstance(min_value, str) else None
        maximum = max_value if isinstance(max_value, str) else None
    distinct: int | None = None
    if null_count >= row_count:
        distinct = 0
    elif exact_distinct and "distinct" in stats:
        distinct = _count(stats["distinct"])
    if null_count < row_count and minimum is not None and minimum == maximum:
        distinct = 1
        exact_distinct = True
    return ColumnProfile(
        name=str(spec.name), dtype=spec.dtype, kind=kind, row_count=row_count,
        null_count=null_count, null_rate=null_rate, zero_count=zero_count, zero_rate=zero_rate,
        distinct_count=distinct, distinct_exact=exact_distinct or distinct is None,
        min=minimum, max=maximum, mean=mean, std=std,
    )


def _to_eager(nw: Any, frame: object) -> Any:
    if isinstance(frame, nw.DataFrame | nw.LazyFrame):
        df = frame
    else:
        try:
            df = nw.from_native(frame)
        except TypeError as exc:
            msg = (
                f"frame: expected a pandas or polars DataFrame/LazyFrame or a pyarrow Table, "
                f"got {type(frame).__name__} {truncate_value(frame, 80)}"
            )
            raise ValidationError(
                msg, code="quality_invalid_frame",
                details={"field": "frame", "value": type(frame).__name__,
                         "allowed": "pandas/polars DataFrame or LazyFrame, pyarrow Table"},
                cause=exc,
            ) from exc
    if isinstance(df, nw.LazyFrame):
        df = df.collect()
    return df


def _select_columns(items: list[tuple[Any, Any]],
                    columns: Sequence[str] | None) -> list[tuple[Any, Any]]:
    if columns is None:
        return items
    by_text = {str(name): (name, dtype) for name, dtype in items}
    missing = [column for column in columns if str(column) not in by_text]
    if missing:
        msg = (
            f"columns: {truncate_value(missing)} not in the frame; "
            f"available: {truncate_value(list(by_text))}"
        )
        raise ValidationError(msg, code="quality_unknown_column",
                              details={"field": "columns", "value": missing,
                                       "allowed": list(by_text)})
    return [by_text[str(column)] for column in columns]


def profile_frame(frame: object, *, columns: Sequence[str] | None = None) -> FrameProfile:
    """Profile ``frame`` (pandas, polars eager or lazy, pyarrow Table).

    Args:
        frame: the dataframe; any frame narwhals accepts.
        columns: profile only these columns (all by default).

    Columns sharing a name (legal in pandas and Arrow) are profiled under distinct
    names: the first keeps its name, later ones become ``name (2)``, ``name (3)``, ...
    (see ``duplicate_column_renames``), so the schema and the statistics agree.

    Raises:
        ValidationError: ``frame`` is not a supported dataframe, or a name in
            ``columns`` is not one of its columns.
        DependencyError: narwhals is not installed.
    """
    frame, _ = _dedupe_columns(frame)
    pandas = sys.modules.get("pandas")
    plain_pandas = pandas is not None and type(frame) is pandas.DataFrame
    if plain_pandas:
        _require_narwhals()
    else:
        nw = _narwhals()
    try:
        if plain_pandas:
            profile = _profile_pandas(frame, columns)
            if profile is not None:
                return profile
            nw = _narwhals()
        return _profile(nw, frame, columns)
    except (ContextaError, MemoryError, RecursionError):
        raise
    except Exception as exc:  # a backend or narwhals error: the frame cannot be profiled
        msg = (f"frame: {type(frame).__name__} could not be profiled "
               f"({type(exc).__name__}: {truncate_value(str(exc), 160)})")
        raise ValidationError(
            msg, code="quality_invalid_frame",
            details={"field": "frame", "value": type(frame).__name__,
                     "allowed": "a frame with unique column names and profilable types"},
            cause=exc,
        ) from exc


def _column_names(frame: object) -> list[Any] | None:
    """The column names of a pandas frame or an Arrow table (``None`` for other frames)."""
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(frame, pandas.DataFrame):
        return None if frame.columns.is_unique else list(frame.columns)
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(frame, pyarrow.Table):
        return list(frame.column_names)
    return None


def _unique_names(names: Sequence[Any]) -> tuple[list[Any], dict[str, str]]:
    """Names with duplicates made distinct, and ``{new name: original name}``."""
    taken = {str(name) for name in names}
    seen: set[str] = set()
    out: list[Any] = []
    renamed: dict[str, str] = {}
    for name in names:
        text = str(name)
        if text not in seen:
            seen.add(text)
            out.append(name)
            continue
        number = 2
        while f"{text} ({number})" in taken:
            number += 1
        new = f"{text} ({number})"
        taken.add(new)
        seen.add(new)
        out.append(new)
        renamed[new] = text
    return out, renamed


def duplicate_column_renames(frame: object) -> dict[str, str]:
    """``{profiled name: column name}`` for the columns of ``frame`` that share a name
    with an earlier one (empty when the names are unique or the frame is not pandas or
    Arrow; polars frames cannot hold duplicates)."""
    names = _column_names(frame)
    return {} if names is None else _unique_names(names)[1]


def _dedupe_columns(frame: object) -> tuple[object, dict[str, str]]:
    """``frame`` itself, or a shallow copy whose duplicated column names are distinct."""
    names = _column_names(frame)
    if names is None:
        return frame, {}
    unique, renamed = _unique_names(names)
    if not renamed:
        return frame, {}
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(frame, pyarrow.Table):
        return frame.rename_columns([str(name) for name in unique]), renamed
    copy = frame.copy(deep=False)  # type: ignore[attr-defined]
    copy.columns = unique
    return copy, renamed


def storable_name(name: str) -> str:
    """``name`` with each lone surrogate as U+FFFD: stored text may not hold them (§3.2).

    Everything else the contract accepts in JSON text (NUL and other control
    characters included) is kept, so schema names stay the exact names (§7.1).
    """
    return _SURROGATE.sub("\ufffd", name)


def _storable_names(profiles: list[ColumnProfile]) -> list[ColumnProfile]:
    """Columns whose names cannot be stored renamed, kept distinct like duplicates.

    Done here, not at recording, so statistics, schema and history checks all use
    the one name that is stored (a later run compares against it).
    """
    if not any(_SURROGATE.search(profile.name) for profile in profiles):
        return profiles  # the usual case: nothing to rename
    taken = {profile.name for profile in profiles}
    out = []
    for profile in profiles:
        if _SURROGATE.search(profile.name) is None:
            out.append(profile)
            continue
        base = storable_name(profile.name)
        new, number = base, 2
        while new in taken:
            new = f"{base} ({number})"
            number += 1
        taken.add(new)
        out.append(replace(profile, name=new))
    return out


def storable_profile(profile: FrameProfile) -> FrameProfile:
    """``profile`` with storable column names (a hand-built one may lack them)."""
    columns = _storable_names(list(profile.columns))
    if all(new is old for new, old in zip(columns, profile.columns, strict=True)):
        return profile
    fingerprint = schema_fingerprint([(column.name, column.dtype) for column in columns])
    return replace(profile, columns=tuple(columns), schema_fingerprint=fingerprint)


def _specs(nw: Any, selected: list[tuple[Any, Any]]) -> list[ColumnSpec]:
    return [
        ColumnSpec(index, name, str(dtype), _kind(nw, dtype), bool(dtype.is_float()))
        for index, (name, dtype) in enumerate(selected)
    ]


class _Backend:
    """Which columns the NumPy path takes (plain pandas ones) and which narwhals takes."""

    def __init__(self, nw: Any, df: Any, specs: list[ColumnSpec]) -> None:
        self.nw, self.df = nw, df
        self.arrays: Any = None  # the pandas frame's column arrays
        self.blocks: Any = None  # _stats_pandas.Blocks for a pandas frame
        self.rest = specs
        if df is not None and df.implementation is nw.Implementation.PANDAS:
            from contexta.quality import _stats_pandas

            native = df.to_native()
            self.blocks, self.rest = _stats_pandas.split(native, specs)
            if self.blocks.groups:
                self.arrays = _stats_pandas.column_arrays(native)

    @classmethod
    def pandas_only(cls, arrays: list[Any], blocks: Any) -> _Backend:
        """Every column on the NumPy path: no narwhals at all."""
        backend = cls(None, None, [])
        backend.arrays, backend.blocks = arrays, blocks
        return backend

    def aggregate(self, row_count: int, exact: bool) -> ColumnStats:
        stats: ColumnStats = {}
        if self.blocks is not None and self.blocks.groups:
            from contexta.quality import _stats_pandas

            stats.update(_stats_pandas.aggregate(self.arrays, self.blocks, exact_distinct=exact))
        if self.rest:
            small = row_count <= _FILL_NAN_ROWS
            stats.update(aggregate_exprs(self.nw, self.df, self.rest, exact_distinct=exact,
                                         fill_nan=small))
            redo = [] if small else _nan_columns(self.rest, stats, row_count)
            if redo:
                stats.update(aggregate_exprs(self.nw, self.df, redo, exact_distinct=exact,
                                             fill_nan=True))
        return stats

    def sampled_distinct(self, targets: list[ColumnSpec],
                         row_count: int) -> dict[int, tuple[int, int]]:
        positions = sample_positions(row_count)
        wanted = {spec.index for spec in targets}
        out: dict[int, tuple[int, int]] = {}
        blocks = None if self.blocks is None else self.blocks.subset(wanted)
        if blocks is not None and blocks.groups:
            from contexta.quality import _stats_pandas

            out.update(_stats_pandas.sampled_distinct(self.arrays, blocks, positions))
        rest = [spec for spec in self.rest if spec.index in wanted]
        if rest:
            floats = [spec.name for spec in rest if spec.is_float]
            out.update(sampled_distinct_exprs(self.nw, self.df, rest, positions,
                                              fill_nan=floats))
        return out


def _profile(nw: Any, frame: object, columns: Sequence[str] | None) -> FrameProfile:
    pandas = sys.modules.get("pandas")
    df = _to_eager(nw, frame)
    items = list(df.collect_schema().items())
    specs = _specs(nw, _select_columns(items, columns))
    if df.implementation is nw.Implementation.PANDAS and type(df.to_native()) is getattr(
            pandas, "DataFrame", None):
        _remember_pandas_schema(nw, df.to_native(), items)
    row_count = int(df.shape[0])
    backend = _Backend(nw, df, specs)
    implementation = str(getattr(df.implementation, "value", df.implementation))
    return _finish(backend, specs, row_count, implementation)


def _finish(backend: _Backend, specs: list[ColumnSpec], row_count: int,
            implementation: str) -> FrameProfile:
    exact = row_count <= DISTINCT_EXACT_ROWS
    stats = backend.aggregate(row_count, exact)
    profiles = [_build_column(spec, row_count, stats.get(spec.index, {}), exact_distinct=exact)
                for spec in specs]
    if not exact:
        profiles = _fill_estimates(backend, specs, profiles, row_count)
    profiles = _storable_names(profiles)
    fingerprint = schema_fingerprint([(profile.name, profile.dtype) for profile in profiles])
    return FrameProfile(row_count=row_count, columns=tuple(profiles),
                        schema_fingerprint=fingerprint, backend=implementation)


def _remember_pandas_schema(nw: Any, native: Any, items: list[tuple[Any, Any]]) -> None:
    from contexta.quality import _stats_pandas

    _stats_pandas.remember_schema(native, items, [_kind(nw, dtype) for _, dtype in items],
                                  [bool(dtype.is_float()) for _, dtype in items])


def _profile_pandas(native: Any, columns: Sequence[str] | None) -> FrameProfile | None:
    """A plain pandas frame whose selected columns all take the NumPy path, profiled
    without narwhals (which costs ~0.3 ms to wrap the frame and map its dtypes);
    ``None`` for any other frame, which ``_profile`` then profiles the general way.

    The dtype strings and kinds are narwhals' own: known for the everyday dtypes, and
    cached by ``_stats_pandas`` the first time another dtype went through narwhals
    (here, for a frame with such dtypes not seen before: one ``collect_schema``), so the
    profile is the one ``_profile`` would give.
    """
    from contexta.quality import _stats_pandas

    arrays = _stats_pandas.column_arrays(native)
    names = _stats_pandas.column_names(native)
    schema = _stats_pandas.known_schema(native, names, arrays)
    if schema is None and _stats_pandas.cacheable(native, names, arrays):
        # new dtypes: ask narwhals for the schema only, then profile here (a frame
        # narwhals rejects takes the general path, which reports it)
        nw = _narwhals()
        try:
            items = list(nw.from_native(native).collect_schema().items())
        except Exception:
            return None
        _remember_pandas_schema(nw, native, items)
        schema = _stats_pandas.known_schema(native, names, arrays)
    if schema is None:
        return None
    items = [(name, (position, info)) for position, (name, info) in enumerate(schema)]
    selected = _select_columns(items, columns)
    groups: dict[str, list[ColumnSpec]] = {}
    positions: dict[int, int] = {}
    specs: list[ColumnSpec] = []
    for index, (name, (position, info)) in enumerate(selected):
        if info.block is None:
            return None
        spec = ColumnSpec(index, name, info.text, info.kind, info.is_float)
        specs.append(spec)
        groups.setdefault(info.block, []).append(spec)
        positions[index] = position
    backend = _Backend.pandas_only(arrays, _stats_pandas.Blocks(groups, positions))
    return _finish(backend, specs, len(native.index), _PANDAS)


def _nan_columns(specs: list[ColumnSpec], stats: ColumnStats,
                 row_count: int) -> list[ColumnSpec]:
    """Float columns holding NaN that the backend does not count as null (polars, Arrow).

    A mean is NaN exactly when a NaN took part in it. Those columns are aggregated
    again with NaN turned into null, which makes every statistic skip them.
    """
    return [
        spec for spec in specs
        if spec.is_float and _count(stats[spec.index].get("null")) < row_count
        and _number(stats[spec.index].get("mean")) is None
    ]


def _fill_estimates(backend: _Backend, specs: list[ColumnSpec], profiles: list[ColumnProfile],
                    row_count: int) -> list[ColumnProfile]:
    """Distinct counts of long columns, estimated from a sample of rows."""
    targets = [
        spec for spec, profile in zip(specs, profiles, strict=True)
        if spec.kind != "other" and profile.distinct_count is None
    ]
    if not targets:
        return profiles
    out = list(profiles)
    sampled = backend.sampled_distinct(targets, row_count)
    for index, (sample_distinct, sample_non_null) in sampled.items():
        profile = out[index]
        estimate = estimate_distinct(sample_distinct, sample_non_null, profile.non_null_count)
        out[index] = replace(profile, distinct_count=estimate, distinct_exact=False)
    return out
