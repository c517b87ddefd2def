"""A sink printing one JSON document per payload on stdout or stderr."""

from __future__ import annotations

import sys
import threading

from contexta.capture.results import PayloadFamily
from contexta.capture.sinks.protocol import BaseSink, SinkCaptureReceipt, payload_json
from contexta.errors import ValidationError, truncate_value

__all__ = ["StdoutSink"]


class StdoutSink(BaseSink):
    """Writes to the stream only because the user installed it explicitly."""

    def __init__(
        self,
        *,
        name: str = "stdout",
        stream: str = "stdout",
        supported_families: tuple[PayloadFamily | str, ...] | None = None,
        indent: int | None = None,
    ) -> None:
        super().__init__(name=name, supported_families=supported_families)
        if stream not in ("stdout", "stderr"):
            message = f"stream must be 'stdout' or 'stderr'; got {truncate_value(stream)}"
            raise ValidationError(message, details={"field": "stream", "allowed": "stdout, stderr"})
        self.stream = stream
        self.indent = indent
        self._lock = threading.Lock()

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        self.make_request(family=family, payload=payload)
        text = payload_json(payload, indent=self.indent)
        target = sys.stdout if self.stream == "stdout" else sys.stderr
        with self._lock:
            target.write(text + "\n")
            target.flush()
        return SinkCaptureReceipt.success(detail=self.stream)
