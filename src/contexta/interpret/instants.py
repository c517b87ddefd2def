"""Instants: compare timestamps by the moment they name, never by their text (contract §3.4).

Stored timestamps are canonical UTC strings (``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``). Their text
order is wrong when one has a fraction and the other has not (``…00Z`` sorts after
``…00.5Z``), so every sort and filter here goes through :func:`instant_key`, which pads the
fraction to a fixed width; sorting stays as cheap as a string comparison.
"""

from __future__ import annotations

from datetime import UTC, datetime

from contexta.contract.timestamps import normalize_timestamp

__all__ = ["age_seconds", "coerce_instant", "instant_key", "parse_instant"]


def instant_key(text: str) -> str:
    """Fixed-width sort key of a canonical UTC timestamp string."""
    if len(text) == 20:  # no fraction: "YYYY-MM-DDTHH:MM:SSZ"
        return text[:19] + ".000000"
    return text[:-1]


def parse_instant(text: str) -> datetime:
    """Aware UTC datetime of a canonical timestamp string."""
    return datetime.fromisoformat(text[:-1] if text.endswith("Z") else text).replace(tzinfo=UTC)


def age_seconds(text: str, now: datetime) -> float:
    """Seconds from the instant ``text`` to ``now`` (negative when in the future)."""
    return (now - parse_instant(text)).total_seconds()


def coerce_instant(value: object, *, field: str, code: str) -> str:
    """Canonical text of a user timestamp; bad input raises ``ValidationError`` with ``code``."""
    return normalize_timestamp(value, field, code)
