"""Timestamp rules (contract.md §3.4): accept many spellings, store one canonical UTC string.

Canonical form is ``YYYY-MM-DDTHH:MM:SSZ`` or ``YYYY-MM-DDTHH:MM:SS.ffffffZ``. Because both
forms have a fixed length, two canonical strings of equal length order like their instants;
otherwise we compare epoch microseconds. Normalization of strings is cached: hot loops
reuse the same few timestamps.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from contexta.contract._errors import fail

__all__ = [
    "TIMESTAMP_EXAMPLE",
    "normalize_timestamp",
    "now_timestamp",
    "parse_timestamp",
    "timestamp_le",
    "timestamp_to_micros",
]

TIMESTAMP_EXAMPLE = "'2025-01-01T00:00:00Z' or '2025-01-01T09:00:00.5+09:00'"
_ALLOWED = (
    f"a timezone-aware datetime or an ISO-8601 string with 'Z' or a numeric offset, "
    f"years 1-9999, e.g. {TIMESTAMP_EXAMPLE}"
)

_ISO_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?"
    r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICRO = timedelta(microseconds=1)


def _format(dt: datetime) -> str:
    text = (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    )
    if dt.microsecond:
        return f"{text}.{dt.microsecond:06d}Z"
    return text + "Z"


@lru_cache(maxsize=16384)
def _normalize_text(text: str) -> str | None:
    """Canonical form of ``text``, or ``None`` when it is not an accepted timestamp."""
    match = _ISO_RE.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = match.groups()
    if hour is None and zulu is None:
        return None  # date-only strings need 'Z' (contract.md §3.4 (d))
    micro = int((frac + "000000")[:6]) if frac else 0  # truncate, never round
    try:
        if zulu is not None:
            tz = UTC
        else:
            offset = timedelta(hours=int(off_h), minutes=int(off_m or 0))
            tz = timezone(-offset if sign == "-" else offset)
        dt = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
        if tz is not UTC:
            dt = dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return _format(dt)


def _normalize_datetime(value: datetime) -> str | None:
    try:
        if value.tzinfo is None or value.utcoffset() is None:
            dt = value.replace(tzinfo=UTC)  # naive: taken as UTC (reference behaviour)
        else:
            dt = value.astimezone(UTC)
        return _format(dt)
    except Exception:  # odd tzinfo objects, NaT-like subclasses, overflow at year edges
        return None


def normalize_timestamp(
    value: object, field: str = "timestamp", code: str = "context_invalid_timestamp"
) -> str:
    """Return the canonical UTC string for any accepted timestamp input."""
    if type(value) is str:
        result = _normalize_text(value)
    elif isinstance(value, datetime):
        result = _normalize_datetime(value)
    elif isinstance(value, str):
        result = _normalize_text(str(value))
    else:
        result = None
    if result is None:
        fail(code, field, value, _ALLOWED, "not an accepted timestamp")
    return result


def parse_timestamp(value: object) -> datetime:
    """Aware UTC ``datetime`` for any accepted timestamp input (for arithmetic)."""
    canonical = normalize_timestamp(value)
    return _parse_canonical(canonical)


@lru_cache(maxsize=16384)
def _parse_canonical(canonical: str) -> datetime:
    return datetime.fromisoformat(canonical[:-1]).replace(tzinfo=UTC)


@lru_cache(maxsize=16384)
def _micros(canonical: str) -> int:
    return (_parse_canonical(canonical) - _EPOCH) // _ONE_MICRO


def timestamp_to_micros(value: object) -> int:
    """Epoch microseconds of a timestamp (canonical strings are the fast path)."""
    return _micros(normalize_timestamp(value))


def timestamp_le(earlier: str, later: str) -> bool:
    """``earlier <= later`` as instants, for two canonical strings."""
    if len(earlier) == len(later):
        return earlier <= later
    return _micros(earlier) <= _micros(later)


def now_timestamp() -> str:
    """The UTC wall clock as a canonical timestamp, microsecond precision."""
    return _format(datetime.now(UTC))
