"""Record family dispatch for serialization and parsing."""

from __future__ import annotations

import json
from typing import Any

from contexta.contract import (
    DegradedRecord,
    MetricRecord,
    StructuredEventRecord,
    TraceSpanRecord,
    deserialize_degraded_record,
    deserialize_metric_record,
    deserialize_structured_event_record,
    deserialize_trace_span_record,
)
from contexta.errors import SerializationError

__all__ = ["RECORD_CLASSES", "record_from_json"]

RECORD_CLASSES = (StructuredEventRecord, MetricRecord, TraceSpanRecord, DegradedRecord)

_DESERIALIZERS = {
    "event": deserialize_structured_event_record,
    "metric": deserialize_metric_record,
    "span": deserialize_trace_span_record,
    "degraded": deserialize_degraded_record,
}


def record_from_json(body: str) -> Any:
    """Parse canonical record JSON into the matching record model."""
    try:
        data = json.loads(body)
        record_type = data["envelope"]["record_type"]
        deserialize = _DESERIALIZERS[record_type]
    except (ValueError, KeyError, TypeError) as error:
        msg = f"stored record is not a readable record document: {body[:120]!r}"
        raise SerializationError(msg, code="deserialize_invalid_payload", cause=error) from error
    return deserialize(data)
