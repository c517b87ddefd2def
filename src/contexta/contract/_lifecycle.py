"""Field checks shared by the context models: status/time rules and small numbers."""

from __future__ import annotations

from typing import Any

from contexta.contract._errors import fail
from contexta.contract.enums import RUN_STAGE_STATUSES
from contexta.contract.timestamps import normalize_timestamp, timestamp_le

__all__ = ["check_lifecycle", "check_optional_count"]

_STATUSES = frozenset(RUN_STAGE_STATUSES)
_MAX_INT64 = 2**63 - 1
_set = object.__setattr__


def check_lifecycle(obj: Any) -> None:
    """``status`` enumerated, ``ended_at`` None iff open, ``ended_at >= started_at`` as instants."""
    status = obj.status
    if type(status) is not str or status not in _STATUSES:
        fail("context_invalid_status", "status", status, ", ".join(RUN_STAGE_STATUSES))
    started = obj.started_at
    canonical = normalize_timestamp(started, "started_at")
    if canonical is not started:
        _set(obj, "started_at", canonical)
    ended = obj.ended_at
    if ended is None:
        if status != "open":
            fail(
                "context_invalid_status",
                "ended_at",
                ended,
                f"a timestamp when status is {status!r} (None only while 'open')",
            )
        return
    ended_canonical = normalize_timestamp(ended, "ended_at")
    if ended_canonical is not ended:
        _set(obj, "ended_at", ended_canonical)
    if status == "open":
        fail("context_invalid_status", "ended_at", ended, "None while status is 'open'")
    if not timestamp_le(canonical, ended_canonical):
        fail(
            "context_invalid_time_order",
            "ended_at",
            ended,
            f"an instant at or after started_at {canonical}",
            "ended before it started",
        )


def check_optional_count(obj: Any, field: str) -> None:
    """``order_index``/``size_bytes``: None or an int 0..2**63-1 (never bool)."""
    value = obj.__getattribute__(field)
    if value is None:
        return
    if type(value) is not int:
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            fail("context_invalid_string", field, value, f"None or an int 0..{_MAX_INT64}")
        try:
            number = value.__index__()
        except Exception:
            fail("context_invalid_string", field, value, f"None or an int 0..{_MAX_INT64}")
        _set(obj, field, number)
        value = number
    if value < 0 or value > _MAX_INT64:
        fail("context_invalid_string", field, value, f"None or an int 0..{_MAX_INT64}")
