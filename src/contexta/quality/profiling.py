"""``profile_frame``: one code path for pandas, polars (eager and lazy) and Arrow.

The frame goes through ``narwhals.from_native``; every statistic of every column
is one aggregate expression, and all of them run in a single ``select``, which
each backend evaluates in one pass over its own columnar data. Two optional
follow-ups stay small: columns whose NaN values are not already nulls (polars,
Arrow) are re-aggregated with NaN turned into null, and frames longer than
``DISTINCT_EXACT_ROWS`` count distinct values on a sample of rows
(``contexta.quality.distinct``). Lazy frames are collected first: a profile
reads every value anyway.

NaN in a float column counts as null. Only plain Python scalars leave this module.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import hashlib
import math
from collections.abc import Sequence
from typing import Any

from contexta.errors import ContextaError, DependencyError, ValidationError, truncate_value
from contexta.quality.distinct import DISTINCT_EXACT_ROWS, estimate_distinct, sample_positions
from contexta.quality.models import ColumnKind, ColumnProfile, FrameProfile

__all__ = ["profile_frame", "schema_fingerprint"]

_NUMERIC_STATS = ("zero", "min", "max", "mean", "std")


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


def _distinct_expr(base: Any, float_column: bool) -> Any:
    # -0.0 + 0.0 is +0.0: Arrow counts the two zeros as different values, the others not
    return (base + 0.0).n_unique() if float_column else base.n_unique()


def _column_exprs(nw: Any, index: int, name: Any, kind: ColumnKind, *, fill_nan: bool,
                  float_column: bool, exact_distinct: bool) -> list[Any]:
    """Aggregate expressions for one column, aliased ``<index>:<stat>``."""
    base = nw.col(name)
    if fill_nan:
        base = base.fill_nan(None)
    exprs = [base.null_count().alias(f"{index}:null")]
    if kind in ("numeric", "boolean"):
        value = base.cast(nw.Int8) if kind == "boolean" else base
        exprs += [
            (value == 0).sum().alias(f"{index}:zero"),
            value.min().alias(f"{index}:min"),
            value.max().alias(f"{index}:max"),
            value.mean().alias(f"{index}:mean"),
            value.std(ddof=1).alias(f"{index}:std"),
        ]
    elif kind == "temporal":
        exprs += [base.min().alias(f"{index}:min"), base.max().alias(f"{index}:max")]
    if exact_distinct and kind != "other":
        exprs.append(_distinct_expr(base, float_column).alias(f"{index}:distinct"))
    return exprs


def _aggregate(frame: Any, exprs: list[Any]) -> dict[str, Any]:
    if not exprs:
        return {}
    result = frame.select(exprs)
    row = result.rows(named=False)[0]
    return dict(zip(result.columns, row, strict=True))


def _build_column(name: str, dtype: str, kind: ColumnKind, index: int, row_count: int,
                  stats: dict[str, Any], *, exact_distinct: bool) -> ColumnProfile:
    null_count = _count(stats.get(f"{index}:null"))
    null_rate = null_count / row_count if row_count else None
    zero_count = zero_rate = mean = std = None
    minimum: int | float | str | None = None
    maximum: int | float | str | None = None
    if kind in ("numeric", "boolean"):
        zero_count = _count(stats.get(f"{index}:zero"))
        zero_rate = zero_count / row_count if row_count else None
        minimum = _number(stats.get(f"{index}:min"))
        maximum = _number(stats.get(f"{index}:max"))
        mean_value = _number(stats.get(f"{index}:mean"))
        std_value = _number(stats.get(f"{index}:std"))
        mean = None if mean_value is None else float(mean_value)
        std = None if std_value is None else float(std_value)
    elif kind == "temporal":
        min_value, max_value = _plain(stats.get(f"{index}:min")), _plain(stats.get(f"{index}:max"))
        minimum = min_value if isinstance(min_value, str) else None
        maximum = max_value if isinstance(max_value, str) else None
    distinct: int | None = None
    if null_count >= row_count:
        distinct = 0
    elif exact_distinct and f"{index}:distinct" in stats:
        # n_unique counts null as one value on every backend
        distinct = _count(stats[f"{index}:distinct"]) - (1 if null_count else 0)
    if null_count < row_count and minimum is not None and minimum == maximum:
        distinct = 1
        exact_distinct = True
    return ColumnProfile(
        name=name, dtype=dtype, kind=kind, row_count=row_count, null_count=null_count,
        null_rate=null_rate, zero_count=zero_count, zero_rate=zero_rate,
        distinct_count=distinct, distinct_exact=exact_distinct or distinct is None,
        min=minimum, max=maximum, mean=mean, std=std,
    )


def _sampled_distinct(nw: Any, frame: Any, targets: list[tuple[int, Any, bool, bool, bool]],
                      row_count: int) -> dict[int, tuple[int, int]]:
    """``{index: (distinct, non_null)}`` counted on a sample of the frame's rows."""
    names = [name for _, name, *_ in targets]
    sample = frame.select([nw.col(name) for name in names])[sample_positions(row_count)]
    exprs = []
    for index, name, fill_nan, has_nulls, is_float in targets:
        base = nw.col(name).fill_nan(None) if fill_nan else nw.col(name)
        exprs.append(_distinct_expr(base, is_float).alias(f"{index}:d"))
        if has_nulls:
            exprs.append(base.null_count().alias(f"{index}:n"))
    stats = _aggregate(sample, exprs)
    sample_rows = len(sample)
    out = {}
    for index, *_ in targets:
        nulls = _count(stats.get(f"{index}:n", 0))
        out[index] = (_count(stats[f"{index}:d"]) - (1 if nulls else 0), sample_rows - nulls)
    return out


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


def _profile(nw: Any, frame: object, columns: Sequence[str] | None) -> FrameProfile:
    df = _to_eager(nw, frame)
    selected = _select_columns(df.collect_schema(), columns)
    row_count = int(df.shape[0])
    exact = row_count <= DISTINCT_EXACT_ROWS
    specs = []
    exprs: list[Any] = []
    for index, (name, dtype) in enumerate(selected):
        kind = _kind(nw, dtype)
        is_float = bool(dtype.is_float())
        specs.append((index, name, str(dtype), kind, is_float))
        exprs += _column_exprs(nw, index, name, kind, fill_nan=False, float_column=is_float,
                               exact_distinct=exact)
    stats = _aggregate(df, exprs)
    nan_columns = _nan_columns(specs, stats, row_count)
    if nan_columns:
        redo: list[Any] = []
        for index, name, _, kind, is_float in specs:
            if index in nan_columns:
                redo += _column_exprs(nw, index, name, kind, fill_nan=True, float_column=is_float,
                                      exact_distinct=exact)
        stats.update(_aggregate(df, redo))
    profiles = [
        _build_column(str(name), dtype_text, kind, index, row_count, stats, exact_distinct=exact)
        for index, name, dtype_text, kind, _ in specs
    ]
    if not exact:
        profiles = _fill_estimates(nw, df, specs, profiles, nan_columns, row_count)
    fingerprint = schema_fingerprint([(profile.name, profile.dtype) for profile in profiles])
    backend = str(getattr(df.implementation, "value", df.implementation))
    return FrameProfile(row_count=row_count, columns=tuple(profiles),
                        schema_fingerprint=fingerprint, backend=backend)


def _nan_columns(specs: list[tuple[int, Any, str, ColumnKind, bool]], stats: dict[str, Any],
                 row_count: int) -> set[int]:
    """Float columns holding NaN that the backend does not count as null (polars, Arrow).

    A mean is NaN exactly when a NaN took part in it; pandas skips NaN as null, so
    it never needs the second pass. Those columns are aggregated again with NaN
    turned into null, which makes every statistic skip them.
    """
    return {
        index for index, _, _, _, is_float in specs
        if is_float and _count(stats.get(f"{index}:null")) < row_count
        and _number(stats.get(f"{index}:mean")) is None
    }


def _fill_estimates(nw: Any, df: Any, specs: list[tuple[int, Any, str, ColumnKind, bool]],
                    profiles: list[ColumnProfile], nan_columns: set[int],
                    row_count: int) -> list[ColumnProfile]:
    """Distinct counts of long columns, estimated from a sample of rows."""
    targets = [
        (index, name, index in nan_columns, profile.null_count > 0, is_float)
        for (index, name, _, kind, is_float), profile in zip(specs, profiles, strict=True)
        if kind != "other" and profile.distinct_count is None
    ]
    if not targets:
        return profiles
    sampled = _sampled_distinct(nw, df, targets, row_count)
    out = list(profiles)
    for index, (sample_distinct, sample_non_null) in sampled.items():
        profile = out[index]
        estimate = estimate_distinct(sample_distinct, sample_non_null, profile.non_null_count)
        out[index] = _replace_distinct(profile, estimate)
    return out


def _replace_distinct(profile: ColumnProfile, estimate: int) -> ColumnProfile:
    from dataclasses import replace

    return replace(profile, distinct_count=estimate, distinct_exact=False)
