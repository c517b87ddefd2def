"""The pandas fast path of ``profile_frame`` against a plain-Python reference.

A plain pandas frame whose dtypes were seen before is profiled without narwhals, from the
column arrays, in 2-D NumPy blocks (``_stats_pandas``); distinct values of long blocks of
whole numbers are counted with ``bincount`` instead of sorting. These tests compare all of
that with a reference written column by column in plain Python, on random small frames
with NaN, None, +-inf, -0.0, integers of several widths, booleans, strings, datetimes,
all-null and empty columns, and with the general (narwhals) path on the same frames.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta.quality import FrameProfile, _stats_pandas, profile_frame

NAN = float("nan")
INF = float("inf")
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# (pandas dtype, narwhals dtype string, kind) of every column type drawn below
TYPES = {
    "float": ("float64", "Float64", "numeric"),
    "float32": ("float32", "Float32", "numeric"),
    "int": ("int64", "Int64", "numeric"),
    "int8": ("int8", "Int8", "numeric"),
    "uint64": ("uint64", "UInt64", "numeric"),
    "bool": ("bool", "Boolean", "boolean"),
    "str": ("str", "String", "string"),
    "string_python": ("string[python]", "String", "string"),
    "category": ("category", "Categorical", "string"),
    "datetime": ("datetime64[us]", "Datetime(time_unit='us', time_zone=None)", "temporal"),
}

SPECIAL_FLOATS = st.sampled_from([NAN, INF, -INF, 0.0, -0.0, 5e-324, -5e-324, 1.0, 2.0])
FLOATS = st.one_of(
    SPECIAL_FLOATS,
    st.integers(-50, 50).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.none(),
)
FLOAT32 = st.one_of(st.sampled_from([NAN, 0.0, -0.0, 1.5]),
                    st.floats(-1e4, 1e4, width=32, allow_nan=False), st.none())
TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "b", "nan", "None", "ü", "a "]),
                 st.text(max_size=3))
DATETIMES = st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1970, 1, 1),
                                              max_value=dt.datetime(2100, 1, 1)),
                      st.sampled_from([dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 0, 0, 1)]))
VALUES = {
    "float": FLOATS,
    "float32": FLOAT32,
    "int": st.one_of(st.integers(-3, 3), st.integers(-(2 ** 63), 2 ** 63 - 1)),
    "int8": st.integers(-128, 127),
    "uint64": st.one_of(st.integers(0, 3), st.integers(2 ** 64 - 4, 2 ** 64 - 1),
                        st.integers(0, 2 ** 64 - 1)),
    "bool": st.booleans(),
    "str": TEXT,
    "string_python": TEXT,
    "category": st.one_of(st.none(), st.sampled_from(["x", "y", "z"])),
    "datetime": DATETIMES,
}
SHAPES = {"all_null", "constant", "mixed"}


@st.composite
def columns(draw: Any) -> dict[str, tuple[str, list[Any]]]:
    """``{name: (type, values)}`` with the same number of rows in every column."""
    rows = draw(st.sampled_from([0, 1, 2, 3, 5, 8, 13, 30]))
    chosen = draw(st.lists(st.sampled_from(sorted(TYPES)), min_size=1, max_size=6))
    out: dict[str, tuple[str, list[Any]]] = {}
    for position, kind in enumerate(chosen):
        shape = draw(st.sampled_from(sorted(SHAPES)))
        if shape == "all_null" and kind in ("float", "float32", "str", "string_python",
                                            "category", "datetime"):
            values: list[Any] = [None] * rows
        elif shape == "constant" and rows:
            values = [draw(VALUES[kind])] * rows
        else:
            values = draw(st.lists(VALUES[kind], min_size=rows, max_size=rows))
        out[f"{kind}_{position}"] = (kind, values)
    return out


def build(spec: dict[str, tuple[str, list[Any]]]) -> Any:
    import pandas as pd

    data = {}
    for name, (kind, values) in spec.items():
        dtype = TYPES[kind][0]
        if kind in ("float", "float32"):
            data[name] = pd.Series([NAN if v is None else v for v in values], dtype=dtype)
        elif kind == "datetime":
            data[name] = pd.Series(values, dtype="object").astype(dtype)
        else:
            data[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data)


# ---------------------------------------------------------------- the reference


def _present(kind: str, values: list[Any]) -> list[Any]:
    if kind in ("float", "float32"):
        return [v for v in values if v is not None and not math.isnan(v)]
    if kind in ("int", "int8", "uint64", "bool"):
        return list(values)
    return [v for v in values if v is not None]


def _number_stats(kind: str, present: list[Any]) -> dict[str, Any]:
    if kind == "float32":
        present = [float(np.float32(v)) for v in present]
    numbers = [int(v) if kind == "bool" else v for v in present]
    out: dict[str, Any] = {"zero_count": sum(1 for v in numbers if v == 0)}
    if not numbers:
        return {**out, "min": None, "max": None, "mean": None, "std": None}
    out["min"], out["max"] = min(numbers), max(numbers)
    if kind in ("float", "float32"):
        out["min"], out["max"] = float(out["min"]), float(out["max"])
    floats = [float(v) for v in numbers]
    if any(math.isinf(v) for v in floats):
        signs = {v > 0 for v in floats if math.isinf(v)}
        out["mean"] = None if len(signs) == 2 else (INF if True in signs else -INF)
        out["std"] = None  # x - mean is NaN for an infinite x
        return out
    mean = math.fsum(floats) / len(floats)
    out["mean"] = mean
    out["std"] = (math.sqrt(math.fsum((v - mean) ** 2 for v in floats) / (len(floats) - 1))
                  if len(floats) > 1 else None)
    return out


def reference(spec: dict[str, tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """What a profile must say, one column at a time, in plain Python."""
    out = []
    for name, (kind, values) in spec.items():
        _, dtype, column_kind = TYPES[kind]
        rows = len(values)
        present = _present(kind, values)
        if kind == "float32":
            present = [float(np.float32(v)) for v in present]
        nulls = rows - len(present)
        column: dict[str, Any] = {
            "name": name, "dtype": dtype, "kind": column_kind, "row_count": rows,
            "null_count": nulls, "null_rate": nulls / rows if rows else None,
            "zero_count": None, "zero_rate": None, "min": None, "max": None,
            "mean": None, "std": None,
            # -0.0 == 0.0 and hash alike: one value
            "distinct_count": len(set(present)), "distinct_exact": True,
        }
        if column_kind in ("numeric", "boolean"):
            column.update(_number_stats(kind, present))
            column["zero_rate"] = column["zero_count"] / rows if rows else None
        elif column_kind == "temporal" and present:
            column["min"], column["max"] = min(present).isoformat(), max(present).isoformat()
        out.append(column)
    return out


def _close(ours: Any, theirs: Any, scale: float) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if math.isinf(theirs):
        return ours == theirs
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, scale))


def assert_matches_reference(profile: FrameProfile,
                             spec: dict[str, tuple[str, list[Any]]]) -> None:
    expected = reference(spec)
    assert profile.row_count == (len(next(iter(spec.values()))[1]) if spec else 0)
    assert len(profile.columns) == len(expected)
    for column, wanted in zip(profile.columns, expected, strict=True):
        got = column.to_dict()
        approximate = {"mean", "std"}
        for key in wanted.keys() - approximate:
            assert got[key] == wanted[key], (key, got, wanted)
            if isinstance(wanted[key], int | float) and wanted[key] is not None:
                assert type(got[key]) is type(wanted[key]), (key, got, wanted)
        numbers = [abs(float(v)) for v in _present(spec[column.name][0], spec[column.name][1])
                   if not isinstance(v, str | dt.datetime)]
        scale = max(numbers, default=1.0)
        scale = scale if math.isfinite(scale) else 1.0
        for key in approximate:
            assert _close(got[key], wanted[key], scale), (key, got, wanted)


@contextmanager
def counted_distinct_everywhere() -> Iterator[None]:
    """Count distinct values with ``bincount`` even in short blocks (normally >= 2048 rows)."""
    with mock.patch.object(_stats_pandas, "_COUNTED_MIN_WIDTH", 2):
        yield


# ---------------------------------------------------------------- property tests


@SETTINGS
@given(columns(), st.booleans())
def test_fast_path_matches_the_reference(spec: dict[str, tuple[str, list[Any]]],
                                         counted: bool) -> None:
    frame = build(spec)
    profile_frame(frame)  # the first call may go through narwhals for new dtypes
    if counted:
        with counted_distinct_everywhere():
            profile = profile_frame(frame)
    else:
        profile = profile_frame(frame)
    assert profile.backend == "pandas"
    assert_matches_reference(profile, spec)


@SETTINGS
@given(columns())
def test_fast_path_equals_the_general_path(spec: dict[str, tuple[str, list[Any]]]) -> None:
    import narwhals.stable.v2 as nw

    frame = build(spec)
    fast = profile_frame(frame)
    general = profile_frame(nw.from_native(frame))  # never takes the fast path
    assert fast == general
    names = list(spec)[::-1][:2]
    assert profile_frame(frame, columns=names) == profile_frame(nw.from_native(frame),
                                                                columns=names)


@SETTINGS
@given(st.data())
def test_counted_distinct_equals_sorted_distinct(data: Any) -> None:
    kind = data.draw(st.sampled_from(["float64", "int64", "int8", "uint8", "uint64", "bool"]))
    rows = data.draw(st.integers(1, 4))
    width = data.draw(st.integers(2, 60))
    if kind == "float64":
        element = st.one_of(st.integers(-300, 300).map(float), SPECIAL_FLOATS,
                            st.sampled_from([2.0 ** 52, -(2.0 ** 52), 2.0 ** 52 - 1, 2.0 ** 53,
                                             0.5, 1e300]))
    elif kind == "bool":
        element = st.booleans()
    else:
        info = np.iinfo(kind)
        element = st.one_of(st.integers(int(info.min), int(info.max)),
                            st.integers(int(info.min), int(info.min) + 5),
                            st.integers(int(info.max) - 5, int(info.max)))
    values = data.draw(st.lists(element, min_size=rows * width, max_size=rows * width))
    block = np.array(values, dtype=kind).reshape(rows, width)
    if kind == "bool":
        block = block.view(np.int8)
    with np.errstate(all="ignore"):
        missing = np.isnan(block) if kind == "float64" else np.zeros(block.shape, dtype=bool)
        counts = width - missing.sum(axis=1)
        low, high = np.fmin.reduce(block, axis=1), np.fmax.reduce(block, axis=1)
        with counted_distinct_everywhere():
            counted = _stats_pandas._distinct(block, counts, low, high)
        ordered = _stats_pandas._sorted_distinct(block, counts)
    expected = [len({v for v, gone in zip(row, skip, strict=True) if not gone})
                for row, skip in zip(block.tolist(), missing.tolist(), strict=True)]
    assert counted.tolist() == ordered.tolist() == expected


# ---------------------------------------------------------------- examples


def test_long_frame_of_whole_numbers_counts_distinct_values_exactly() -> None:
    import pandas as pd

    rng = np.random.default_rng(3)
    rows = 5000  # above _COUNTED_MIN_WIDTH: the bincount path
    assert rows >= _stats_pandas._COUNTED_MIN_WIDTH
    whole = rng.integers(-40, 40, rows).astype(float)
    whole[rng.random(rows) < 0.1] = NAN
    whole[:3] = [0.0, -0.0, 0.0]
    frame = pd.DataFrame({
        "whole": whole,
        "halves": whole / 2,
        "int8": rng.integers(-128, 127, rows, endpoint=True).astype("int8"),
        "uint64": rng.integers(2 ** 64 - 1000, 2 ** 64 - 1, rows, dtype="uint64",
                               endpoint=True),
        "wide": rng.integers(-(2 ** 62), 2 ** 62, rows),
        "flag": rng.random(rows) < 0.5,
    })
    profile = profile_frame(frame)
    for column in profile.columns:
        assert column.distinct_count == frame[column.name].nunique(), column.name
        assert column.distinct_exact


def test_warm_plain_frames_do_not_touch_narwhals(monkeypatch: pytest.MonkeyPatch) -> None:
    import narwhals.stable.v2 as nw
    import pandas as pd

    frame = pd.DataFrame({"f": [1.0, NAN, 0.0], "i": [1, 2, 3], "s": ["a", None, "a"],
                          "b": [True, False, True],
                          "t": pd.to_datetime(["2024-01-01", None, "2024-01-02"])})
    first = profile_frame(frame)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("narwhals was called")

    monkeypatch.setattr(nw, "from_native", refuse)
    assert profile_frame(frame.copy()) == first
    assert profile_frame(frame, columns=["s", "f"]).column_names == ("s", "f")


def test_profiling_leaves_the_frame_alone() -> None:
    import pandas as pd

    frame = pd.DataFrame({"f": [1.5, NAN, -0.0, 2.0], "g": [NAN] * 4, "i": [3, 1, 2, 2],
                          "s": ["x", None, "y", "x"]})
    before = frame.copy(deep=True)
    single = pd.DataFrame({"f": [1.5, NAN, -0.0, 2.0]})
    single_before = single.copy(deep=True)
    for _ in range(2):
        profile_frame(frame)
        profile_frame(single)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(single, single_before)
    assert math.copysign(1.0, single["f"].iloc[2]) == -1.0


def test_odd_pandas_frames_give_what_the_general_path_gives() -> None:
    import narwhals.stable.v2 as nw
    import pandas as pd

    frames = [
        pd.DataFrame({"a": [1.0, 2.0], 5: [3, 4]}),  # a non-string name
        pd.DataFrame({"a": np.array(["x", None, 3], dtype=object)}),  # object column
        pd.DataFrame({"a": pd.Categorical(["x", "y", None], ordered=True)}),
        pd.DataFrame({"a": pd.to_datetime(["2024-01-01", None]).tz_localize("UTC")}),
        pd.DataFrame({"a": pd.array([1, None], dtype="Int64"),
                      "b": pd.array([0.5, None], dtype="Float64")}),
        pd.DataFrame({"a": np.array([1.5, 2.5], dtype="float16")}),
        pd.DataFrame(index=range(3)),
    ]
    for frame in frames:
        for _ in range(2):  # cold and warm dtype cache
            assert repr(profile_frame(frame)) == repr(profile_frame(nw.from_native(frame)))


def test_everyday_dtypes_are_what_narwhals_makes_of_them() -> None:
    import narwhals.stable.v2 as nw
    import pandas as pd

    from contexta.quality.profiling import _kind

    dtypes: list[Any] = [dtype for dtype, _ in _stats_pandas.everyday_dtypes()]
    for options in ({"storage": "python"}, {"storage": "pyarrow"},
                    {"storage": "python", "na_value": NAN},
                    {"storage": "pyarrow", "na_value": NAN}):
        try:
            dtypes.append(pd.StringDtype(**options))
        except (TypeError, ValueError, ImportError):  # older pandas: no na_value
            continue
    frame = pd.DataFrame({f"c{i}": pd.Series([], dtype=dtype) for i, dtype in enumerate(dtypes)})
    _stats_pandas._seed()
    schema = nw.from_native(frame).collect_schema()
    for (name, nw_dtype), dtype in zip(schema.items(), dtypes, strict=True):
        info = _stats_pandas._lookup(frame[name].dtype)
        assert info is not None, dtype
        assert (info.text, info.kind, info.is_float) == (
            str(nw_dtype), _kind(nw, nw_dtype), bool(nw_dtype.is_float())), dtype


def test_everyday_pandas_frames_are_profiled_without_importing_narwhals() -> None:
    code = (
        "import sys, pandas as pd\n"
        "from contexta.quality import profile_frame\n"
        "frame = pd.DataFrame({'f': [1.0, None], 's': ['x', None], 'i': [1, 2], 'b': [True, False],"
        " 't': pd.to_datetime(['2024-01-01', None])})\n"
        "profile = profile_frame(frame)\n"
        "print('narwhals' in sys.modules, [c.dtype for c in profile.columns])\n"
        "profile_frame(frame.astype({'i': 'Int64'}))\n"
        "print('narwhals' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    first, second = out.stdout.strip().splitlines()
    assert first == ("False ['Float64', 'String', 'Int64', 'Boolean', "
                     "\"Datetime(time_unit='us', time_zone=None)\"]")
    assert second == "True"  # a nullable column: narwhals' business
