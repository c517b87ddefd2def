"""Column statistics of a pandas frame with NumPy, in a few vectorised calls.

narwhals evaluates a pandas expression column by column and wraps every scalar in a
new Series, which costs ~0.3 ms per (column, statistic): 35-95 ms for a 900-row,
20-column frame, whose data takes microseconds to scan. Here the columns of one kind are
copied into one 2-D NumPy block (one row per column, so each reduction is contiguous
and NumPy sums pairwise) and every statistic is one call over the block. Distinct
values are counted by sorting the block (in blocks of 2,048 rows or more, whole numbers
in a narrow range with one ``bincount``). Only plain NumPy float, integer, boolean and
naive datetime columns, and string columns, are handled here; any other dtype (nullable
integers, Arrow-backed numbers, durations, objects) goes through the narwhals path, so
its semantics stay those of narwhals.

Columns are read as their backing arrays (``column_arrays``), never as Series: building
a Series, or taking columns with ``iloc``, costs ~10 us per column, more than the
statistics of a short column. ``known_schema`` gives the narwhals dtype of each column
from a per-process cache, seeded with the everyday dtypes and filled by
``remember_schema`` (the narwhals dtype of a pandas column is a function of its pandas
dtype, except for ``object`` and ``category`` columns, which are never cached), so a
plain pandas frame of known dtypes needs no narwhals call at all
(``profiling._profile_pandas``).

NaN in a float column counts as null, as ``pandas.isna`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contexta.quality._stats_narwhals import ColumnSpec, ColumnStats

__all__ = [
    "Blocks",
    "DtypeInfo",
    "aggregate",
    "cacheable",
    "column_arrays",
    "column_names",
    "everyday_dtypes",
    "known_schema",
    "remember_schema",
    "sampled_distinct",
    "split",
]


def _block_kind(dtype: Any, kind: str, is_float: bool) -> str | None:
    """How this module handles the column, or ``None`` to leave it to narwhals."""
    if isinstance(dtype, np.dtype):
        if dtype.kind == "f":
            return "float"
        if dtype.kind in "iu":
            return f"int:{dtype.str}"
        if dtype.kind == "b":
            return "bool"
        if dtype.kind == "M" and kind == "temporal":
            return "temporal"
    elif kind == "numeric" and is_float:
        return "float"  # nullable Float64/Float32: copied out with NA as NaN
    if kind == "string":
        return "string"
    return None


@dataclass(frozen=True, slots=True)
class DtypeInfo:
    """What ``profiling`` needs of one pandas dtype: narwhals' view of it and our block."""

    text: str  # str() of the narwhals dtype: the schema's dtype string
    kind: str  # ColumnKind
    is_float: bool
    block: str | None  # _block_kind, None for a column left to narwhals


# NumPy dtype -> DtypeInfo, and (type of an extension dtype, its str()) -> DtypeInfo.
# Neither holds object or category dtypes, whose narwhals dtype depends on the values
# or on the categories. (str() of a NumPy dtype runs Python code: slower than a lookup.)
_NUMPY_DTYPES: dict[Any, DtypeInfo] = {}
_EXTENSION_DTYPES: dict[tuple[type, str], DtypeInfo] = {}
_DTYPES_MAX = 512


# narwhals' view of the everyday pandas dtypes, known without asking it, so a process that
# profiles only such frames never imports narwhals (its import and its pandas backend
# cost ~45 ms on the first profile). tests/quality/test_profiling_fast_path.py checks
# every entry against narwhals.
_EVERYDAY_NUMBERS = {
    "float32": "Float32", "float64": "Float64",
    "int8": "Int8", "int16": "Int16", "int32": "Int32", "int64": "Int64",
    "uint8": "UInt8", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
}
_EVERYDAY_TIME_UNITS = ("s", "ms", "us", "ns")
_EVERYDAY_STRINGS = ("str", "string")  # str() of pandas.StringDtype, any storage
_seeded = False


def everyday_dtypes() -> list[tuple[Any, DtypeInfo]]:
    """``[(NumPy dtype, what narwhals makes of it)]`` for the everyday NumPy dtypes."""
    out: list[tuple[Any, DtypeInfo]] = []
    for name, text in _EVERYDAY_NUMBERS.items():
        dtype = np.dtype(name)
        is_float = dtype.kind == "f"
        out.append((dtype, DtypeInfo(text, "numeric", is_float,
                                     _block_kind(dtype, "numeric", is_float))))
    out.append((np.dtype(bool), DtypeInfo("Boolean", "boolean", False, "bool")))
    for unit in _EVERYDAY_TIME_UNITS:
        text = f"Datetime(time_unit='{unit}', time_zone=None)"
        out.append((np.dtype(f"datetime64[{unit}]"),
                    DtypeInfo(text, "temporal", False, "temporal")))
    return out


def _seed() -> None:
    """Put the everyday dtypes in the caches (pandas is imported: a frame came in)."""
    global _seeded
    import pandas as pd

    for dtype, info in everyday_dtypes():
        _NUMPY_DTYPES.setdefault(dtype, info)
    string = DtypeInfo("String", "string", False, "string")
    for text in _EVERYDAY_STRINGS:
        _EXTENSION_DTYPES.setdefault((pd.StringDtype, text), string)
    _seeded = True


def _lookup(dtype: Any) -> DtypeInfo | None:
    if isinstance(dtype, np.dtype):
        return _NUMPY_DTYPES.get(dtype)
    return _EXTENSION_DTYPES.get((type(dtype), str(dtype)))


def remember_schema(native: Any, items: Iterable[tuple[Any, Any]], kinds: Sequence[str],
                    floats: Sequence[bool]) -> None:
    """Cache the narwhals dtypes of ``native``'s columns (``items``: its schema, in order)."""
    global _seeded
    for cache in (_NUMPY_DTYPES, _EXTENSION_DTYPES):
        if len(cache) > _DTYPES_MAX:
            cache.clear()
            _seeded = False
    for dtype, (_, nw_dtype), kind, is_float in zip(
            native.dtypes.tolist(), items, kinds, floats, strict=True):
        if str(dtype) in ("object", "category") or _lookup(dtype) is not None:
            continue
        info = DtypeInfo(str(nw_dtype), kind, is_float, _block_kind(dtype, kind, is_float))
        if isinstance(dtype, np.dtype):
            _NUMPY_DTYPES[dtype] = info
        else:
            _EXTENSION_DTYPES[type(dtype), str(dtype)] = info


def column_names(native: Any) -> list[Any]:
    """The column names as Python objects (``Index.tolist`` is slower on string indexes)."""
    return native.columns.to_numpy(dtype=object).tolist()  # type: ignore[no-any-return]


def cacheable(native: Any, names: list[Any], arrays: Sequence[Any]) -> bool:
    """Unique ``str`` column names (anything else is left to narwhals to judge), and
    dtypes that ``remember_schema`` can cache (no object or category columns)."""
    if not native.columns.is_unique or not all(type(name) is str for name in names):
        return False
    for array in arrays:
        dtype = array.dtype
        if dtype.kind == "O" if isinstance(dtype, np.dtype) else str(dtype) == "category":
            return False
    return True


def known_schema(native: Any, names: list[Any],
                 arrays: Sequence[Any]) -> list[tuple[str, DtypeInfo]] | None:
    """``[(name, info)]`` of every column, or ``None`` when a dtype is not cached yet
    (or the column names are not unique strings: narwhals decides about those)."""
    if not native.columns.is_unique or len(names) != len(arrays):
        return None
    if not _seeded:
        _seed()
    out = []
    numpy_dtypes = _NUMPY_DTYPES
    for name, array in zip(names, arrays, strict=True):
        if type(name) is not str:
            return None
        dtype = array.dtype
        info = numpy_dtypes.get(dtype) if isinstance(dtype, np.dtype) else _lookup(dtype)
        if info is None:
            return None
        out.append((name, info))
    return out


def column_arrays(native: Any) -> list[Any]:
    """The backing array of every column, by position, without building Series."""
    iterate = getattr(native, "_iter_column_arrays", None)
    if iterate is not None:
        try:
            return list(iterate())
        except Exception:
            pass
    return [native.iloc[:, position].array for position in range(native.shape[1])]


@dataclass(frozen=True, slots=True)
class Blocks:
    """The columns this module handles, by block kind, with their native positions."""

    groups: dict[str, list[ColumnSpec]]
    positions: dict[int, int]  # spec index -> column position in the native frame

    def subset(self, indices: set[int]) -> Blocks:
        groups = {kind: picked for kind, specs in self.groups.items()
                  if (picked := [spec for spec in specs if spec.index in indices])}
        return Blocks(groups, self.positions)


def split(native: Any, specs: Sequence[ColumnSpec]) -> tuple[Blocks, list[ColumnSpec]]:
    """``(columns handled here, columns left to narwhals)``.

    Columns are reached by position: looking a name up in a pandas column index costs
    more than the statistics of a short column (names are unique: narwhals checks).
    """
    where = {name: position for position, name in enumerate(native.columns.tolist())}
    dtypes = native.dtypes.tolist()
    groups: dict[str, list[ColumnSpec]] = {}
    positions: dict[int, int] = {}
    rest: list[ColumnSpec] = []
    for spec in specs:
        position = where[spec.name]
        kind = _block_kind(dtypes[position], spec.kind, spec.is_float)
        if kind is None:
            rest.append(spec)
        else:
            groups.setdefault(kind, []).append(spec)
            positions[spec.index] = position
    return Blocks(groups, positions), rest


def _float_row(array: Any) -> Any:
    if isinstance(array, np.ndarray):
        return array  # np.vstack converts float32/float16 exactly, as to_numpy(float64)
    return array.to_numpy(dtype=np.float64, na_value=np.nan)


def _float_block(arrays: Sequence[Any], blocks: Blocks, specs: Sequence[ColumnSpec]) -> Any:
    # one row per column, C-contiguous: each reduction reads one contiguous row
    rows = [_float_row(arrays[blocks.positions[spec.index]]) for spec in specs]
    return np.vstack(rows).astype(np.float64, copy=False)


def _int_block(arrays: Sequence[Any], blocks: Blocks, specs: Sequence[ColumnSpec],
               boolean: bool) -> Any:
    block = np.vstack([np.asarray(arrays[blocks.positions[spec.index]]) for spec in specs])
    return block.view(np.int8) if boolean else block


def _sorted_distinct(block: Any, counts: Any) -> Any:
    """Distinct values per row of ``block`` whose first ``counts`` sorted values are valid."""
    rows = block.shape[1]
    if rows < 2:
        return (counts > 0).astype(np.int64)
    ordered = np.sort(block, axis=1)  # NaN sorts last
    changes = ordered[:, 1:] != ordered[:, :-1]  # -0.0 == 0.0: one value, as elsewhere
    if (counts == rows).all():  # no NaN: every change is between valid values
        return np.add.reduce(changes, axis=1) + 1
    valid = np.arange(rows - 1)[None, :] < (counts - 1)[:, None]
    return np.add.reduce(changes & valid, axis=1) + (counts > 0)


# In blocks of at least ``_COUNTED_MIN_WIDTH`` rows, whole numbers whose range is at most
# ``_COUNTED_RANGE_PER_ROW`` times the row count (plus the slack) are counted with one
# ``bincount``, without sorting: ~10x faster on 50,000 rows. Shorter rows sort faster
# than the extra passes cost. Floats only up to 2**52 in size, where every whole number
# is exact and so are differences of them.
_COUNTED_MIN_WIDTH = 2048
_COUNTED_RANGE_PER_ROW = 2
_COUNTED_RANGE_SLACK = 1024
_COUNTED_FLOAT_LIMIT = float(2 ** 52)


def _counted_rows(low: list[Any], high: list[Any], counts: list[int], rows: int,
                  is_float: bool) -> tuple[list[int], list[int]]:
    """Rows whose values may be counted by ``bincount`` (narrow range, some values),
    and their spans ``high - low + 1`` (Python numbers: exact, whatever the dtype)."""
    limit = _COUNTED_RANGE_PER_ROW * rows + _COUNTED_RANGE_SLACK
    picked, spans = [], []
    for row, (least, most, count) in enumerate(zip(low, high, counts, strict=True)):
        if count <= 0:
            continue
        if is_float and not (-_COUNTED_FLOAT_LIMIT <= least <= most <= _COUNTED_FLOAT_LIMIT):
            continue  # also skips NaN
        if most - least < limit:
            picked.append(row)
            spans.append(int(most - least) + 1)
    return picked, spans


def _counted_distinct(block: Any, low: Any, spans: list[int]) -> Any:
    """Distinct values per row of a block of whole numbers in ``[low, low + span)`` per
    row (NaN allowed in a float block: they are counted as ``low``, which is present)."""
    sizes = np.array(spans, dtype=np.intp)
    starts = np.zeros(len(sizes), dtype=np.intp)
    np.cumsum(sizes[:-1], out=starts[1:])
    # one block-sized array where possible: fresh memory costs more than the arithmetic
    kind = block.dtype.kind
    if kind == "f":
        keys = np.empty(block.shape, dtype=np.intp)
        with np.errstate(invalid="ignore"):  # NaN - low, replaced on the next line
            np.subtract(block, low[:, None], out=keys, casting="unsafe")
        np.copyto(keys, 0, where=np.isnan(block))
    elif kind == "u":
        keys = np.subtract(block, low[:, None]).astype(np.intp, copy=False)  # in [0, span)
    else:  # in [0, span) once in 64 bits (int8 - int8 could wrap)
        keys = np.subtract(block, low[:, None], dtype=np.int64).astype(np.intp, copy=False)
    np.add(keys, starts[:, None], out=keys)
    present = np.bincount(keys.ravel(), minlength=int(starts[-1] + sizes[-1])) > 0
    return np.add.reduceat(present, starts, dtype=np.int64)


def _distinct(block: Any, counts: Any, low: Any, high: Any) -> Any:
    """Distinct non-null values per row of ``block`` (NaN is null; -0.0 == 0.0).

    ``counts``: non-NaN values per row; ``low``/``high``: their minimum and maximum
    (NaN for a row without values). Rows without values or with ``low == high`` need no
    look at the data; in long blocks, rows of whole numbers in a narrow range are
    counted with ``bincount`` (linear); the others are sorted (``_sorted_distinct``).
    All give the number of different values.
    """
    if block.shape[0] == 0 or block.shape[1] < 2:
        return _sorted_distinct(block, counts)
    settled = (counts == 0) | (low == high)  # no values, or one value however often
    if settled.any():
        out = (counts > 0).astype(np.int64)
        if not settled.all():
            varied = ~settled
            out[varied] = _varied_distinct(block[varied], counts[varied], low[varied],
                                           high[varied])
        return out
    return _varied_distinct(block, counts, low, high)


def _varied_distinct(block: Any, counts: Any, low: Any, high: Any) -> Any:
    """``_distinct`` of rows holding at least two different values."""
    width = block.shape[1]
    if width < _COUNTED_MIN_WIDTH:
        return _sorted_distinct(block, counts)
    is_float = block.dtype.kind == "f"
    picked, spans = _counted_rows(low.tolist(), high.tolist(), counts.tolist(), width,
                                  is_float)
    if picked and is_float:
        candidates = block if len(picked) == block.shape[0] else block[picked]
        whole = np.equal(np.floor(candidates), candidates)
        whole |= np.isnan(candidates)
        whole = whole.all(axis=1)
        kept = [(row, span) for row, span, ok in zip(picked, spans, whole.tolist(),
                                                     strict=True) if ok]
        picked, spans = [row for row, _ in kept], [span for _, span in kept]
    if not picked:
        return _sorted_distinct(block, counts)
    if len(picked) == block.shape[0]:
        return _counted_distinct(block, low, spans)
    out = np.zeros(block.shape[0], dtype=np.int64)
    out[picked] = _counted_distinct(block[picked], low[picked], spans)
    rest = np.ones(block.shape[0], dtype=bool)
    rest[picked] = False
    out[rest] = _sorted_distinct(block[rest], counts[rest])
    return out


def _store(out: ColumnStats, specs: Sequence[ColumnSpec], stat: str, values: Any) -> None:
    for spec, value in zip(specs, values.tolist(), strict=True):
        out[spec.index][stat] = value


def _floats(out: ColumnStats, block: Any, specs: Sequence[ColumnSpec], *, distinct: bool,
            distinct_only: bool) -> None:
    """Statistics of a float block (one row per column); overwrites ``block``."""
    rows = block.shape[1]
    with np.errstate(all="ignore"):
        missing = np.isnan(block)
        nulls = np.add.reduce(missing, axis=1)
        counts = rows - nulls
        _store(out, specs, "null", nulls)
        if rows:
            # fmin/fmax skip NaN without the all-NaN warning of nanmin
            low, high = np.fmin.reduce(block, axis=1), np.fmax.reduce(block, axis=1)
        if distinct:
            if rows:
                found = _distinct(block, counts, low, high)
            else:
                found = _sorted_distinct(block, counts)
            _store(out, specs, "distinct", found)
        if distinct_only:
            return
        _store(out, specs, "zero", np.add.reduce(block == 0, axis=1))
        if rows:
            _store(out, specs, "min", low)
            _store(out, specs, "max", high)
        # From here on ``block`` (a copy made by ``_float_block``) is overwritten: the
        # values of ``sum(where(missing, 0, x))`` and ``sum(where(missing, 0, x - mean)
        # ** 2)``, bit for bit, without allocating a block-sized array per step.
        any_missing = bool(nulls.any())
        if any_missing:
            np.copyto(block, 0.0, where=missing)
        mean = np.add.reduce(block, axis=1) / counts
        deviation = np.subtract(block, mean[:, None], out=block)
        if any_missing:
            np.copyto(deviation, 0.0, where=missing)
        np.multiply(deviation, deviation, out=deviation)
        variance = np.add.reduce(deviation, axis=1) / (counts - 1)
        _store(out, specs, "mean", np.where(counts > 0, mean, np.nan))
        _store(out, specs, "std", np.where(counts > 1, np.sqrt(variance), np.nan))


def _ints(out: ColumnStats, block: Any, specs: Sequence[ColumnSpec], *, distinct: bool,
          distinct_only: bool) -> None:
    rows = block.shape[1]
    counts = np.full(len(specs), rows, dtype=np.int64)
    for spec in specs:
        out[spec.index]["null"] = 0
    if rows:
        low, high = block.min(axis=1), block.max(axis=1)
    if distinct:
        found = _distinct(block, counts, low, high) if rows else _sorted_distinct(block, counts)
        _store(out, specs, "distinct", found)
    if distinct_only:
        return
    _store(out, specs, "zero", np.add.reduce(block == 0, axis=1))
    if rows:
        _store(out, specs, "min", low)
        _store(out, specs, "max", high)
        # the operations of ndarray.mean and ndarray.std(ddof=1) in float64, the sum
        # computed once: the same values bit for bit, without their Python wrappers
        mean = np.add.reduce(block, axis=1, dtype=np.float64) / rows
        _store(out, specs, "mean", mean)
    if rows > 1:
        deviation = block - mean[:, None]
        np.multiply(deviation, deviation, out=deviation)
        variance = np.add.reduce(deviation, axis=1, dtype=np.float64) / (rows - 1)
        _store(out, specs, "std", np.sqrt(variance))


def _extension(array: Any) -> Any:
    if isinstance(array, np.ndarray):  # an object column: the array its Series would hold
        import pandas as pd

        return pd.array(array, dtype=array.dtype, copy=False)
    return array


def _arrow_backed(array: Any) -> bool:
    dtype = array.dtype
    return (getattr(dtype, "storage", None) == "pyarrow"
            or type(dtype).__name__ == "ArrowDtype") and hasattr(array, "__arrow_array__")


def _arrow_strings(stats: dict[str, Any], array: Any, *, distinct: bool) -> None:
    """An Arrow-backed string column straight on its Arrow data: what pandas' ``isna``
    and ``unique`` compute there (a missing value is an Arrow null), at half the cost."""
    data = array.__arrow_array__()
    if getattr(data, "num_chunks", 0) == 1:
        data = data.chunk(0)  # an Array's methods skip the chunked dispatch
    nulls = int(data.null_count)
    stats["null"] = nulls
    if distinct:
        stats["distinct"] = len(data.unique()) - (1 if nulls else 0)


def _per_column(out: ColumnStats, arrays: Sequence[Any], blocks: Blocks,
                specs: Sequence[ColumnSpec], *, distinct: bool, distinct_only: bool) -> None:
    """Temporal and string columns, one column at a time on its pandas array.

    Array methods skip the Series machinery (index alignment, result wrapping), which
    costs more than the work on a short column.
    """
    for spec in specs:
        array = _extension(arrays[blocks.positions[spec.index]])
        stats = out[spec.index]
        if spec.kind == "string" and _arrow_backed(array):
            _arrow_strings(stats, array, distinct=distinct)
            continue
        stats["null"] = int(array.isna().sum())
        if distinct:
            uniques = array.unique()  # every kind of missing value counts once here
            stats["distinct"] = len(uniques) - int(uniques.isna().sum())
        if spec.kind == "temporal" and not distinct_only:
            stats["min"], stats["max"] = array.min(), array.max()


def aggregate(arrays: Sequence[Any], blocks: Blocks, *, exact_distinct: bool,
              distinct_only: bool = False) -> ColumnStats:
    """Statistics of the columns ``split`` assigned to this module.

    ``arrays``: the frame's column arrays by position (``column_arrays``).
    """
    out: ColumnStats = {spec.index: {} for specs in blocks.groups.values() for spec in specs}
    options = {"distinct": exact_distinct, "distinct_only": distinct_only}
    for kind, specs in blocks.groups.items():
        if kind == "float":
            _floats(out, _float_block(arrays, blocks, specs), specs, **options)
        elif kind == "bool" or kind.startswith("int:"):
            _ints(out, _int_block(arrays, blocks, specs, kind == "bool"), specs, **options)
        else:
            _per_column(out, arrays, blocks, specs, **options)
    return out


def _take(array: Any, positions: Any) -> Any:
    if isinstance(array, np.ndarray):
        return array[positions]
    return array.take(positions)


def sampled_distinct(arrays: Sequence[Any], blocks: Blocks,
                     positions: list[int]) -> dict[int, tuple[int, int]]:
    """``{index: (distinct, non_null)}`` counted on the rows at ``positions``."""
    where = np.asarray(positions, dtype=np.intp)
    wanted = set(blocks.positions[spec.index]
                 for specs in blocks.groups.values() for spec in specs)
    sample = [_take(array, where) if position in wanted else array
              for position, array in enumerate(arrays)]
    stats = aggregate(sample, blocks, exact_distinct=True, distinct_only=True)
    rows = len(where)
    return {index: (int(values["distinct"]), rows - int(values["null"]))
            for index, values in stats.items()}
