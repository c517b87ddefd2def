from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from contexta.errors import ValidationError
from contexta.quality import ColumnProfile, FrameProfile, profile_frame
from contexta.quality.distinct import estimate_distinct

NAN = float("nan")
ALL_BACKENDS = ("pandas", "polars", "polars-lazy", "pyarrow")


@pytest.fixture(params=ALL_BACKENDS)
def any_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _plain_only(profile: FrameProfile) -> None:
    for column in profile.columns:
        for value in column.to_dict().values():
            assert value is None or type(value) in (int, float, str, bool), (column.name, value)


def test_numeric_nulls_nan_zeros(any_backend: str, build: Callable[..., Any]) -> None:
    frame = build(any_backend, {
        "f": ("float", [1.0, NAN, None, 0.0, 3.0, 0.0]),
        "i": ("int", [0, 0, 1, 2, 3, 4]),
    })
    profile = profile_frame(frame)
    f, i = profile.column("f"), profile.column("i")
    assert profile.row_count == 6
    assert profile.column_names == ("f", "i")
    assert f is not None
    assert i is not None
    # NaN counts as null on every backend
    assert (f.null_count, f.null_rate) == (2, pytest.approx(2 / 6))
    assert (f.zero_count, f.zero_rate) == (2, pytest.approx(2 / 6))
    assert (f.min, f.max) == (0.0, 3.0)
    assert f.mean == pytest.approx(1.0)
    assert f.std == pytest.approx(math.sqrt(((0 ** 2) + 1 + 1 + 4) / 3))
    assert f.distinct_count == 3
    assert f.distinct_exact
    assert (i.null_count, i.zero_count, i.min, i.max, i.distinct_count) == (0, 2, 0, 4, 5)
    assert type(i.min) is int
    assert type(i.mean) is float
    assert i.kind == "numeric"
    assert i.dtype == "Int64"
    _plain_only(profile)


@pytest.mark.parametrize("backend_name", ["polars", "pyarrow"])
def test_nan_only_column_is_all_null(backend_name: str, build: Callable[..., Any]) -> None:
    frame = build(backend_name, {"x": ("float", [NAN, NAN, NAN])})
    column = profile_frame(frame).columns[0]
    assert (column.null_count, column.null_rate) == (3, 1.0)
    assert column.mean is None
    assert column.min is None
    assert column.std is None
    assert column.distinct_count == 0


def test_constant_column(any_backend: str, build: Callable[..., Any]) -> None:
    frame = build(any_backend, {"c": ("float", [7.0] * 5), "s": ("str", ["x"] * 5)})
    c, s = profile_frame(frame).columns
    assert c.is_constant
    assert c.distinct_count == 1
    assert c.std == 0.0
    assert s.is_constant
    assert s.distinct_count == 1
    assert c.zero_rate == 0.0


def test_empty_frame(any_backend: str, build: Callable[..., Any]) -> None:
    frame = build(any_backend, {"a": ("float", []), "b": ("str", [])})
    profile = profile_frame(frame)
    assert profile.row_count == 0
    for column in profile.columns:
        assert column.null_rate is None
        assert column.null_count == 0
        assert column.distinct_count == 0
        assert column.mean is None
        assert column.min is None
        assert not column.is_constant
    assert profile.columns[0].zero_rate is None


def test_frame_without_columns() -> None:
    import pandas as pd

    profile = profile_frame(pd.DataFrame())
    assert profile.row_count == 0
    assert profile.columns == ()
    assert len(profile.schema_fingerprint) == 64


def test_all_null_column(any_backend: str, build: Callable[..., Any]) -> None:
    frame = build(any_backend, {"x": ("float", [None] * 4), "y": ("int", [1, 2, 3, 4])})
    x = profile_frame(frame).column("x")
    assert x is not None
    assert (x.null_count, x.null_rate, x.distinct_count) == (4, 1.0, 0)
    assert x.min is None
    assert x.max is None
    assert x.mean is None
    assert x.zero_count == 0
    assert not x.is_constant


def test_strings(any_backend: str, build: Callable[..., Any]) -> None:
    frame = build(any_backend, {"s": ("str", ["a", "b", None, "a", "c", "ü"])})
    s = profile_frame(frame).columns[0]
    assert (s.kind, s.dtype) == ("string", "String")
    assert (s.null_count, s.distinct_count) == (1, 4)
    assert s.zero_count is None
    assert s.mean is None
    assert s.min is None


def test_booleans(any_backend: str, build: Callable[..., Any]) -> None:
    frame = build(any_backend, {"b": ("bool", [True, False, True, True])})
    b = profile_frame(frame).columns[0]
    assert (b.kind, b.dtype) == ("boolean", "Boolean")
    assert (b.zero_count, b.zero_rate) == (1, 0.25)  # False counts as zero
    assert b.mean == pytest.approx(0.75)
    assert (b.min, b.max, b.distinct_count) == (0, 1, 2)
    assert type(b.min) is int


def test_datetimes(any_backend: str, build: Callable[..., Any]) -> None:
    values = [dt.datetime(2024, 1, 3), None, dt.datetime(2024, 1, 1, 12, 30),
              dt.datetime(2024, 1, 1, 12, 30)]
    t = profile_frame(build(any_backend, {"t": ("datetime", values)})).columns[0]
    assert t.kind == "temporal"
    assert (t.null_count, t.distinct_count) == (1, 2)
    assert t.min == "2024-01-01T12:30:00"
    assert t.max == "2024-01-03T00:00:00"
    assert t.mean is None
    assert t.zero_count is None


def test_fingerprint_same_across_backends(build: Callable[..., Any]) -> None:
    spec = {"a": ("int", [1, 2]), "b": ("float", [1.0, None]), "c": ("str", ["x", "y"]),
            "d": ("bool", [True, False])}
    prints = {backend: profile_frame(build(backend, spec)).schema_fingerprint
              for backend in ALL_BACKENDS}
    assert len(set(prints.values())) == 1, prints
    reordered = {"b": spec["b"], "a": spec["a"], "c": spec["c"], "d": spec["d"]}
    assert profile_frame(build("polars", reordered)).schema_fingerprint != prints["polars"]


def test_same_numbers_across_backends(build: Callable[..., Any]) -> None:
    spec = {"f": ("float", [0.5, None, 2.0, 0.0, NAN]), "i": ("int", [3, 1, 4, 1, 5]),
            "s": ("str", ["a", None, "a", "b", "c"])}
    dicts = []
    for backend in ALL_BACKENDS:
        profile = profile_frame(build(backend, spec))
        dicts.append([
            {k: (round(v, 12) if isinstance(v, float) else v) for k, v in c.to_dict().items()}
            for c in profile.columns
        ])
    assert all(d == dicts[0] for d in dicts), dicts


def test_columns_subset_and_unknown_column(backend: str, build: Callable[..., Any]) -> None:
    frame = build(backend, {"a": ("int", [1]), "b": ("int", [2])})
    assert profile_frame(frame, columns=["b"]).column_names == ("b",)
    with pytest.raises(ValidationError) as info:
        profile_frame(frame, columns=["nope"])
    assert info.value.code == "quality_unknown_column"
    assert "nope" in str(info.value)
    assert "columns" in str(info.value)


@pytest.mark.parametrize("value", [[1, 2, 3], "frame", None, {"a": [1]}, 3.5])
def test_unsupported_frame_is_a_validation_error(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        profile_frame(value)
    assert info.value.code == "quality_invalid_frame"
    assert "frame" in str(info.value)


def test_long_columns_estimate_distinct_counts() -> None:
    import polars as pl

    n = 250_000
    frame = pl.DataFrame({
        "category": [f"c{i % 50}" for i in range(n)],
        "unique": pl.arange(0, n, eager=True),
        "constant": [1.5] * n,
    })
    category, unique, constant = profile_frame(frame).columns
    assert not category.distinct_exact
    assert category.distinct_count == 50
    assert not unique.distinct_exact
    assert unique.distinct_count == pytest.approx(n, rel=0.02)
    assert constant.distinct_exact
    assert constant.distinct_count == 1


@pytest.mark.parametrize(
    ("distinct", "sample", "population", "expected"),
    [(0, 10, 100, 0), (10, 10, 100, 100), (50, 100_000, 1_000_000, 50), (7, 20, 20, 7)],
)
def test_estimate_distinct_limits(distinct: int, sample: int, population: int,
                                  expected: int) -> None:
    assert estimate_distinct(distinct, sample, population) == expected


def test_estimate_distinct_is_bounded_and_monotone() -> None:
    estimates = [estimate_distinct(d, 1000, 100_000) for d in range(1, 1000, 37)]
    assert estimates == sorted(estimates)
    assert all(d <= e <= 100_000 for d, e in zip(range(1, 1000, 37), estimates, strict=True))


def test_column_profile_constancy_rules() -> None:
    base = {"name": "x", "dtype": "String", "kind": "string", "row_count": 3}
    assert ColumnProfile(**base, null_count=0, null_rate=0.0, distinct_count=1).is_constant
    assert not ColumnProfile(**base, null_count=3, null_rate=1.0, distinct_count=0).is_constant


def test_import_loads_no_dataframe_library() -> None:
    code = (
        "import sys, contexta.quality, contexta.quality.capture;"
        "print(sorted(m for m in ('pandas','polars','pyarrow','narwhals') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
