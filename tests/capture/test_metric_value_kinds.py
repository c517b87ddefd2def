"""numpy scalar kinds as metric values (contract §3.7, §12.2).

``timedelta64`` subclasses ``np.signedinteger``, so it used to reach ``int()`` and
leak a raw ``TypeError``. Time-like and complex values are refused like any other
non-numeric value: a degraded marker by default, ``record_invalid_metric_value``
when strict. Real numpy numbers are stored as plain ``int``/``float``.
"""

from __future__ import annotations

import datetime
import math

import pytest

from contexta.capture import ResultStatus
from contexta.errors import ValidationError

np = pytest.importorskip("numpy")

REFUSED = [
    pytest.param(np.timedelta64(5, "s"), id="timedelta64"),
    pytest.param(np.timedelta64("NaT"), id="timedelta64-nat"),
    pytest.param(np.datetime64("2024-01-02"), id="datetime64"),
    pytest.param(np.datetime64("NaT"), id="datetime64-nat"),
    pytest.param(np.complex128(1 + 2j), id="complex128"),
    pytest.param(np.str_("0.5"), id="str_"),
    pytest.param(datetime.timedelta(seconds=5), id="timedelta"),
]


@pytest.mark.parametrize("value", REFUSED)
def test_refused_kind_leaves_the_invalid_value_marker(ctx, records_of, value) -> None:
    with ctx.run("refused") as run:
        result = run.metric("m", value)
        batch = run.emit_metrics([{"key": "m", "value": value}])
    assert result.status is ResultStatus.DEGRADED
    assert batch.results[0].status is ResultStatus.DEGRADED
    markers = records_of(ctx, run.ref)
    assert [m.payload.issue_key for m in markers] == ["capture.invalid_metric_value"] * 2
    assert markers[0].payload.attributes["python_type"] == type(value).__name__
    assert markers[0].payload.attributes["value"] == repr(value)
    assert "non-numeric" in markers[0].payload.summary


@pytest.mark.parametrize("value", REFUSED)
def test_refused_kind_raises_validation_error_when_strict(ctx, records_of, value) -> None:
    with ctx.run("strict", strict=True) as run:
        with pytest.raises(ValidationError) as caught:
            run.metric("m", value)
        with pytest.raises(ValidationError):
            run.emit_metrics([{"key": "m", "value": value}])
    assert caught.value.code == "record_invalid_metric_value"
    assert records_of(ctx, run.ref) == []


def test_numpy_bool_is_refused_like_bool(ctx) -> None:
    with ctx.run("bool") as run, pytest.raises(ValidationError) as caught:
        run.metric("m", np.bool_(True))
    assert caught.value.code == "record_invalid_metric_value"


def test_real_numpy_numbers_are_stored_as_plain_numbers(ctx, records_of) -> None:
    with ctx.run("reals") as run:
        for value in (np.float16(1.5), np.longdouble(2.25), np.float32("nan"), np.int8(-3),
                      np.uint32(7)):
            assert run.metric("m", value).status is ResultStatus.SUCCESS
    values = [(type(r.payload.value), r.payload.value_type) for r in records_of(ctx, run.ref)]
    assert values == [(float, "float")] * 3 + [(int, "int")] * 2
    stored = [r.payload.value for r in records_of(ctx, run.ref)]
    assert stored[:2] == [1.5, 2.25]
    assert math.isnan(stored[2])
    assert stored[3:] == [-3, 7]
