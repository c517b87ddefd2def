"""Integers outside the signed 64-bit ``int`` range (contract §3.7) never crash capture.

Default mode keeps them as a degraded marker holding the value as text, like a
non-numeric value; ``strict=True`` raises ``record_invalid_metric_value``.
"""

from __future__ import annotations

import pytest

from contexta.capture import ResultStatus
from contexta.errors import ValidationError

np = pytest.importorskip("numpy")

TOO_BIG = 10**30
UINT64_MAX = np.uint64(2**64 - 1)


def test_out_of_range_metric_becomes_a_marker_with_the_value_as_text(ctx, records_of) -> None:
    with ctx.run("big") as run:
        big = run.metric("k", TOO_BIG)
        unsigned = run.metric("k", UINT64_MAX)
        edge = run.metric("k", 2**63 - 1)
    assert (big.status, unsigned.status) == (ResultStatus.DEGRADED, ResultStatus.DEGRADED)
    assert big.degradation_emitted
    assert unsigned.degradation_emitted
    assert edge.status is ResultStatus.SUCCESS
    first, second, metric = records_of(ctx, run.ref)
    assert first.payload.issue_key == second.payload.issue_key == "capture.invalid_metric_value"
    assert first.payload.attributes["value"] == str(TOO_BIG)
    assert second.payload.attributes["value"] == "18446744073709551615"
    assert second.payload.attributes["python_type"] == "uint64"
    assert "outside the signed 64-bit range" in first.payload.summary
    assert metric.payload.value == 2**63 - 1
    issues = [i for i in ctx.diagnose_run(run.ref).issues if i.code == "degraded_record"]
    assert len(issues) == 2


def test_emit_metrics_keeps_in_range_items_and_marks_the_rest(ctx, records_of) -> None:
    with ctx.run("batch") as run:
        batch = run.emit_metrics([{"key": "a", "value": 1},
                                  {"key": "b", "value": -(10**30)},
                                  {"key": "c", "value": UINT64_MAX}])
    assert [r.status for r in batch.results] == [
        ResultStatus.SUCCESS, ResultStatus.DEGRADED, ResultStatus.DEGRADED]
    kinds = [r.envelope.record_type for r in records_of(ctx, run.ref)]
    assert kinds == ["metric", "degraded", "degraded"]
    markers = records_of(ctx, run.ref, "degraded")
    assert [m.payload.attributes["index"] for m in markers] == [1, 2]
    assert markers[0].payload.attributes["value"] == str(-(10**30))


def test_huge_integer_is_described_by_its_size(ctx, records_of) -> None:
    with ctx.run("huge") as run:
        assert run.metric("k", -(10**5000)).degraded
    (marker,) = records_of(ctx, run.ref)
    assert marker.payload.attributes["value"] == "negative integer of 16610 bits"


def test_strict_mode_raises_a_clear_error_and_stores_nothing(ctx, records_of) -> None:
    with ctx.run("strict", strict=True) as run:
        for value in (TOO_BIG, UINT64_MAX):
            with pytest.raises(ValidationError) as err:
                run.metric("k", value)
            assert err.value.code == "record_invalid_metric_value"
            assert "metric 'k'" in str(err.value)
            assert "outside the signed 64-bit range" in str(err.value)
            assert str(int(value)) in str(err.value)
            assert err.value.details["field"] == "value"
        with pytest.raises(ValidationError):
            run.emit_metrics([{"key": "a", "value": 1}, {"key": "b", "value": TOO_BIG}])
    assert records_of(ctx, run.ref) == []
