"""The indexed shape of a record: hot columns extracted once, plus its JSON.

A record is turned into a ``dict`` of column values exactly once, when it is
appended (from the model) or when a spool left by another process is indexed
(from its JSON). Reads return ``RecordRow`` tuples built from those columns,
which is what lets snapshots and diagnostics skip re-validating every record.
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

from contexta.contract._base import canonical_mapping_json
from contexta.contract.timestamps import timestamp_to_micros

__all__ = [
    "DETAIL_COLUMNS",
    "HOT_COLUMNS",
    "MetricValueRow",
    "RecordRow",
    "columns_from_json",
    "columns_from_record",
    "decode_value",
]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

#: Columns of the tuples ``RecordStore.snapshot_rows`` returns, in order: what a snapshot
#: needs of every record (``value_*`` as in ``encode_value``). The rest is read on demand.
HOT_COLUMNS = (
    "seq",
    "record_ref",
    "record_type",
    "stage_ref",
    "batch_ref",
    "sample_ref",
    "operation_ref",
    "deployment_ref",
    "key",
    "value_int",
    "value_real",
    "value_text",
    "step",
    "observed_at",
)

#: Columns of the tuples ``RecordStore.record_details`` returns (then ``body`` if asked).
DETAIL_COLUMNS = ("recorded_at", "completeness", "degradation", "producer", "severity")

_KEY_FIELD = {
    "event": "event_key",
    "metric": "metric_key",
    "span": "span_name",
    "degraded": "issue_key",
}


def encode_value(value: Any) -> tuple[int | None, float | None, str | None]:
    """Split a metric value into (int, finite float, text) so it round-trips exactly."""
    if value is None:
        return None, None, None
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return value, None, None
        return None, None, str(value)
    if math.isnan(value):
        return None, None, "NaN"
    if math.isinf(value):
        return None, None, "Infinity" if value > 0 else "-Infinity"
    return None, value, None


def decode_value(value_int: Any, value_real: Any, value_text: Any) -> int | float | None:
    if value_int is not None:
        return int(value_int)
    if value_real is not None:
        return float(value_real)
    if value_text is None:
        return None
    special = _SPECIAL.get(value_text)
    if special is not None:
        return special
    return int(value_text)


def _duration_ms(started: str, ended: str) -> float:
    return (timestamp_to_micros(ended) - timestamp_to_micros(started)) / 1000.0


_SECOND_STARTS: dict[str, int] = {}


def canonical_micros(text: str) -> int:
    """Epoch microseconds of a canonical timestamp; the append hot path.

    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` splits into a seconds prefix, cached (records of
    one second share it), and the digits of the fraction; anything else takes the
    general parser.
    """
    if len(text) == 27 and text[19] == "." and text[26] == "Z":
        head = text[:19]
        start = _SECOND_STARTS.get(head)
        if start is None:
            if len(_SECOND_STARTS) > 4096:
                _SECOND_STARTS.clear()
            start = _SECOND_STARTS[head] = timestamp_to_micros(head + "Z")
        fraction = text[20:26]
        if fraction.isdigit():
            return start + int(fraction)
    return timestamp_to_micros(text)


def _text(ref: Any) -> str | None:
    return None if ref is None else str(ref)


def columns_from_record(record: Any, body: str) -> dict[str, Any]:
    """Column values of a validated record model (the append hot path)."""
    env = record.envelope
    payload = record.payload
    rtype = env.record_type
    value: Any = None
    step = None
    severity = None
    tags = None
    if rtype == "metric":
        key = payload.metric_key
        value = payload.value
        step = payload.step
        if payload.tags:
            tags = canonical_mapping_json(payload.tags)  # the text the body holds
    elif rtype == "event":
        key = payload.event_key
        severity = payload.level
    elif rtype == "degraded":
        key = payload.issue_key
        severity = payload.severity
    else:
        key = payload.span_name
        value = _duration_ms(payload.started_at, payload.ended_at)
    vi, vr, vt = encode_value(value)
    observed_at = env.observed_at
    recorded_at = env.recorded_at
    recorded_us = canonical_micros(recorded_at)
    observed_us = recorded_us if observed_at == recorded_at else canonical_micros(observed_at)
    return {
        "record_ref": env.record_ref._text,
        "record_type": rtype,
        "run_ref": env.run_ref._text,
        "stage_ref": _text(env.stage_execution_ref),
        "batch_ref": _text(env.batch_execution_ref),
        "sample_ref": _text(env.sample_observation_ref),
        "operation_ref": _text(env.operation_context_ref),
        "deployment_ref": _text(env.deployment_execution_ref),
        "key": key,
        "value_int": vi,
        "value_real": vr,
        "value_text": vt,
        "step": step,
        "observed_at": observed_at,
        "observed_us": observed_us,
        "recorded_at": recorded_at,
        "recorded_us": recorded_us,
        "completeness": env.completeness_marker,
        "degradation": env.degradation_marker,
        "producer": env.producer_ref,
        "severity": severity,
        "tags": tags,
        "body": body,
    }


def columns_from_json(body: str) -> dict[str, Any]:
    """Column values of a record read back as canonical JSON (spool recovery).

    The JSON is re-validated into a model first: a spool line that no longer
    parses into a valid record raises ``ContextaError`` and is quarantined by
    the caller instead of being indexed.
    """
    from contexta.store.records.codec import record_from_json

    return columns_from_record(record_from_json(body), body)


class RecordRow(NamedTuple):
    """A stored record as hot columns; see ``RecordStore.iter_rows``."""

    sequence: int
    record_ref: str
    record_type: str
    run_ref: str
    stage_ref: str | None
    batch_ref: str | None
    sample_ref: str | None
    operation_ref: str | None
    deployment_ref: str | None
    key: str
    value: int | float | None
    step: int | None
    observed_at: str
    recorded_at: str
    completeness_marker: str
    degradation_marker: str
    producer_ref: str
    severity: str | None
    record_json: str

    def payload_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.record_json)["payload"]
        return payload

    def to_record(self) -> Any:
        from contexta.store.records.codec import record_from_json

        return record_from_json(self.record_json)


class MetricValueRow(NamedTuple):
    """The representative (latest) value of one metric key in one stage of one run."""

    run_ref: str
    stage_ref: str | None
    key: str
    value: int | float | None
    observed_at: str
    sequence: int
    tags_json: str | None
