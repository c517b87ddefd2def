"""``profile_frame``: one entry point for pandas, polars (eager and lazy) and Arrow.

The frame goes through ``narwhals.from_native``, which gives the schema and the column
kinds. Statistics come from one of two private modules, each a single pass over the
data: plain NumPy-backed pandas columns from ``_stats_pandas`` (a few vectorised NumPy
calls per column kind; narwhals' pandas backend costs ~0.3 ms per column and statistic),
every other column from ``_stats_narwhals`` (one multi-column expression per statistic,
all in one ``select``). Frames longer than ``DISTINCT_EXACT_ROWS`` count distinct values
on a sample of rows (``contexta.quality.distinct``). Lazy frames are collected first: a
profile reads every value anyway.

NaN in a float column counts as null. Only plain Python scalars leave this module.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import hashlib
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from contexta.errors import ContextaError, DependencyError, ValidationError, truncate_value
from contexta.quality._stats_narwhals import ColumnSpec, ColumnStats
from contexta.quality._stats_narwhals import aggregate as aggregate_exprs
from contexta.quality._stats_narwhals import sampled_distinct as sampled_distinct_exprs
from contexta.quality.distinct import DISTINCT_EXACT_ROWS, estimate_distinct, sample_positions
from contexta.quality.models import ColumnKind, ColumnProfile, FrameProfile

__all__ = ["profile_frame", "schema_fingerprint"]

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


def _plain(value: Any) -> int | float | str | bool | None:
    """A backend scalar as a plain Python value (``None`` for NaN/NaT)."""
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
    plain = _plain(value)
    return int(plain) if isinstance(plain, int | float) else 0


def _number(value: Any) -> int | float | None:
    plain = _plain(value)
    if isinstance(plain, bool):
        return int(plain)
    return plain if isinstance(plain, int | float) else None


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


def _select_columns(schema: Any, columns: Sequence[str] | None) -> list[tuple[Any, Any]]:
    items = list(schema.items())
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

    Raises:
        ValidationError: ``frame`` is not a supported dataframe, or a name in
            ``columns`` is not one of its columns.
        DependencyError: narwhals is not installed.
    """
    nw = _narwhals()
    try:
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


def _specs(nw: Any, selected: list[tuple[Any, Any]]) -> list[ColumnSpec]:
    return [
        ColumnSpec(index, name, str(dtype), _kind(nw, dtype), bool(dtype.is_float()))
        for index, (name, dtype) in enumerate(selected)
    ]


class _Backend:
    """Which columns the NumPy path takes (plain pandas ones) and which narwhals takes."""

    def __init__(self, nw: Any, df: Any, specs: list[ColumnSpec]) -> None:
        self.nw, self.df = nw, df
        self.native: Any = None
        self.blocks: Any = None  # _stats_pandas.Blocks for a pandas frame
        self.rest = specs
        if df.implementation is nw.Implementation.PANDAS:
            from contexta.quality import _stats_pandas

            self.native = df.to_native()
            self.blocks, self.rest = _stats_pandas.split(self.native, specs)

    def aggregate(self, row_count: int, exact: bool) -> ColumnStats:
        stats: ColumnStats = {}
        if self.blocks is not None and self.blocks.groups:
            from contexta.quality import _stats_pandas

            stats.update(_stats_pandas.aggregate(self.native, self.blocks, exact_distinct=exact))
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

            out.update(_stats_pandas.sampled_distinct(self.native, blocks, positions))
        rest = [spec for spec in self.rest if spec.index in wanted]
        if rest:
            floats = [spec.name for spec in rest if spec.is_float]
            out.update(sampled_distinct_exprs(self.nw, self.df, rest, positions,
                                              fill_nan=floats))
        return out


def _profile(nw: Any, frame: object, columns: Sequence[str] | None) -> FrameProfile:
    df = _to_eager(nw, frame)
    specs = _specs(nw, _select_columns(df.collect_schema(), columns))
    row_count = int(df.shape[0])
    exact = row_count <= DISTINCT_EXACT_ROWS
    backend = _Backend(nw, df, specs)
    stats = backend.aggregate(row_count, exact)
    profiles = [_build_column(spec, row_count, stats.get(spec.index, {}), exact_distinct=exact)
                for spec in specs]
    if not exact:
        profiles = _fill_estimates(backend, specs, profiles, row_count)
    fingerprint = schema_fingerprint([(profile.name, profile.dtype) for profile in profiles])
    implementation = str(getattr(df.implementation, "value", df.implementation))
    return FrameProfile(row_count=row_count, columns=tuple(profiles),
                        schema_fingerprint=fingerprint, backend=implementation)


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
