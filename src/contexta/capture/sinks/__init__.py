"""Extra delivery targets for captured payloads (contract §8.6).

The workspace stores are always written first; sinks receive copies of the
stored models afterwards. A sink error is retried and reported as a delivery
failure, never raised into the user's code.
"""

from __future__ import annotations

from contexta.capture.sinks.composite import CompositeSink
from contexta.capture.sinks.local import LocalJsonlSink
from contexta.capture.sinks.memory import InMemorySink, InMemorySinkEntry
from contexta.capture.sinks.protocol import (
    BaseSink,
    Sink,
    SinkCaptureReceipt,
    SinkCaptureRequest,
    extract_payload_ref,
)
from contexta.capture.sinks.stdout import StdoutSink

__all__ = [
    "BaseSink",
    "CompositeSink",
    "InMemorySink",
    "InMemorySinkEntry",
    "LocalJsonlSink",
    "Sink",
    "SinkCaptureReceipt",
    "SinkCaptureRequest",
    "StdoutSink",
    "extract_payload_ref",
]
