"""Property tests: bad input gives a ContextaError, and profiles agree with the data."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta.errors import ContextaError, ValidationError
from contexta.quality import Expectation, QualityThresholds, profile_frame
from contexta.quality.recording import key_segment

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
    st.binary(max_size=10), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
)
SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(ANYTHING)
def test_profile_frame_rejects_non_frames_with_a_validation_error(value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        profile_frame(value)
    assert info.value.code == "quality_invalid_frame"


@FAST
@given(st.sampled_from(["null_rate_min_increase", "zero_rate_min_increase", "row_count_min_drop",
                        "noise_sigmas", "min_history_runs", "constant_min_rows", "min_rows",
                        "max_null_rate", "max_zero_rate", "detect_constant", "columns"]),
       ANYTHING)
def test_thresholds_accept_or_raise_validation_error(field: str, value: Any) -> None:
    try:
        QualityThresholds(**{field: value})
    except ValidationError as exc:
        message = str(exc)
    else:
        return
    assert field in message


@FAST
@given(st.sampled_from(["column", "max_null_rate", "max_zero_rate", "min_rows", "max_rows",
                        "min_distinct", "min_value", "max_value", "severity"]), ANYTHING)
def test_expectations_accept_or_raise_validation_error(field: str, value: Any) -> None:
    try:
        Expectation(**{field: value})
    except ContextaError as exc:
        message = str(exc)
    else:
        return
    assert field in message


@FAST
@given(st.text(max_size=300))
def test_key_segments_are_always_valid(text: str) -> None:
    segment = key_segment(text)
    assert SEGMENT.match(segment)
    assert len(segment) <= 120
    first = key_segment(text, first=True)
    assert first[0].isalpha() or first[0] == "_"


FLOATS = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=32))


@FAST
@given(st.lists(FLOATS, max_size=40), st.sampled_from(["pandas", "polars", "pyarrow"]))
def test_float_profile_matches_the_data(values: list[float | None], backend: str) -> None:
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    if backend == "pandas":
        frame: Any = pd.DataFrame({"x": pd.Series(values, dtype="float64")})
    elif backend == "polars":
        frame = pl.DataFrame({"x": pl.Series(values, dtype=pl.Float64, nan_to_null=False)})
    else:
        frame = pa.table({"x": pa.array(values, type=pa.float64())})
    (column,) = profile_frame(frame).columns
    present = [v for v in values if v is not None and not math.isnan(v)]
    assert column.row_count == len(values)
    assert column.null_count == len(values) - len(present)
    assert column.zero_count == sum(1 for v in present if v == 0)
    assert column.distinct_count == len(set(present))
    if present:
        assert column.min == min(present)
        assert column.max == max(present)
        assert column.mean is not None
        assert math.isclose(column.mean, math.fsum(present) / len(present), rel_tol=1e-6,
                            abs_tol=1e-6)
    else:
        assert column.min is None
        assert column.mean is None
    for rate in (column.null_rate, column.zero_rate):
        assert rate is None or 0.0 <= rate <= 1.0
