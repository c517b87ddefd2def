"""Frames for the data-quality tests: the same typed columns in every library.

``build(backend, columns)`` takes ``{name: (type, values)}`` with types ``float``, ``int``,
``str``, ``bool`` and ``datetime`` and builds the backend's native frame, keeping
``None`` as the backend's missing value and ``float("nan")`` as NaN where the
backend distinguishes them (polars, Arrow).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

BACKENDS = ("pandas", "polars", "pyarrow")
ColumnSpec = Mapping[str, tuple[str, Sequence[Any]]]


def _pandas(columns: ColumnSpec) -> Any:
    import pandas as pd

    data = {}
    for name, (kind, values) in columns.items():
        if kind == "datetime":
            data[name] = pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[us]")
        elif kind == "float":
            data[name] = pd.Series([float("nan") if v is None else v for v in values],
                                   dtype="float64")
        else:
            dtype = {"int": "int64", "str": "str", "bool": "bool"}[kind]
            data[name] = pd.Series(list(values), dtype=dtype)
    return pd.DataFrame(data)


def _polars(columns: ColumnSpec) -> Any:
    import polars as pl

    types = {"float": pl.Float64, "int": pl.Int64, "str": pl.String, "bool": pl.Boolean,
             "datetime": pl.Datetime("us")}
    return pl.DataFrame([pl.Series(name, list(values), dtype=types[kind], nan_to_null=False)
                         for name, (kind, values) in columns.items()])


def _arrow(columns: ColumnSpec) -> Any:
    import pyarrow as pa

    types = {"float": pa.float64(), "int": pa.int64(), "str": pa.string(), "bool": pa.bool_(),
             "datetime": pa.timestamp("us")}
    return pa.table({name: pa.array(list(values), type=types[kind])
                     for name, (kind, values) in columns.items()})


def build_frame(backend: str, columns: ColumnSpec) -> Any:
    if backend == "pandas":
        return _pandas(columns)
    if backend == "pyarrow":
        return _arrow(columns)
    frame = _polars(columns)
    return frame.lazy() if backend == "polars-lazy" else frame


@pytest.fixture
def build() -> Callable[[str, ColumnSpec], Any]:
    """``build(backend, columns)`` for tests that choose the backend themselves."""
    return build_frame


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
