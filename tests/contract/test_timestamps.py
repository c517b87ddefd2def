"""Timestamp normalization and instant comparison (contract.md §3.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from tests.strategies import timestamp_inputs

from contexta.contract.timestamps import (
    normalize_timestamp,
    now_timestamp,
    parse_timestamp,
    timestamp_le,
    timestamp_to_micros,
)
from contexta.errors import ContractError


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        ("2025-01-01T00:00:00.000000Z", "2025-01-01T00:00:00Z"),
        ("2025-01-01T00:00:00.5Z", "2025-01-01T00:00:00.500000Z"),
        ("2025-01-01T00:00:00.1234569Z", "2025-01-01T00:00:00.123456Z"),  # truncated
        ("2025-01-01T09:00:00+09:00", "2025-01-01T00:00:00Z"),
        ("2025-01-01T00:00:00-05:30", "2025-01-01T05:30:00Z"),
        ("2025-01-01T00:00:00+0000", "2025-01-01T00:00:00Z"),
        ("2025-01-01Z", "2025-01-01T00:00:00Z"),
        ("2025-01-01 12:30Z", "2025-01-01T12:30:00Z"),
        (datetime(2025, 1, 1, 9, tzinfo=timezone(timedelta(hours=9))), "2025-01-01T00:00:00Z"),
        (datetime(2025, 1, 1, 0, 0, 0, 7), "2025-01-01T00:00:00.000007Z"),  # naive = UTC
    ],
)
def test_accepted_inputs(value: object, canonical: str) -> None:
    assert normalize_timestamp(value) == canonical


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-01T00:00:00",
        "2025-01-01",
        "",
        "not a time",
        "2025-13-01T00:00:00Z",
        "2025-01-01T24:00:00Z",
        "0001-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-00:01",
        "2025-01-01T00:00:00+24:00",
        "٢٠٢٥-01-01T00:00:00Z",
        1735689600,
        1735689600.0,
        None,
        b"2025-01-01T00:00:00Z",
    ],
)
def test_rejected_inputs(value: object) -> None:
    with pytest.raises(ContractError) as info:
        normalize_timestamp(value, "observed_at", "record_invalid_timestamp")
    assert info.value.code == "record_invalid_timestamp"
    assert "observed_at" in str(info.value)
    assert "2025-01-01T00:00:00Z" in str(info.value)  # shows an accepted example


@given(timestamp_inputs(), timestamp_inputs())
def test_ordering_follows_instants(a: object, b: object) -> None:
    ca, cb = normalize_timestamp(a), normalize_timestamp(b)
    assert normalize_timestamp(ca) == ca
    assert timestamp_le(ca, cb) == (parse_timestamp(ca) <= parse_timestamp(cb))
    assert timestamp_le(ca, cb) == (timestamp_to_micros(ca) <= timestamp_to_micros(cb))


def test_micros_and_now() -> None:
    assert timestamp_to_micros("1970-01-01T00:00:00.000001Z") == 1
    assert timestamp_to_micros("1970-01-01T01:00:00+01:00") == 0
    now = now_timestamp()
    assert now.endswith("Z")
    assert abs(parse_timestamp(now) - datetime.now(UTC)) < timedelta(minutes=1)
