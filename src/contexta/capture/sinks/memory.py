"""A sink that keeps what it receives in memory, for tests and notebooks."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from contexta.capture.results import PayloadFamily
from contexta.capture.sinks.protocol import BaseSink, SinkCaptureReceipt, payload_json

__all__ = ["InMemorySink", "InMemorySinkEntry"]


@dataclass(frozen=True, slots=True)
class InMemorySinkEntry:
    """One payload received by an :class:`InMemorySink`."""

    family: PayloadFamily
    payload: object
    payload_type: str
    payload_ref: str | None

    def to_dict(self) -> dict[str, Any]:
        import json

        return {
            "family": self.family.value,
            "payload_type": self.payload_type,
            "payload_ref": self.payload_ref,
            "payload": json.loads(payload_json(self.payload)),
        }


class InMemorySink(BaseSink):
    """Collects payloads in order; thread-safe."""

    def __init__(
        self,
        *,
        name: str = "memory",
        supported_families: tuple[PayloadFamily | str, ...] | None = None,
    ) -> None:
        super().__init__(name=name, supported_families=supported_families)
        self._lock = threading.Lock()
        self._entries: list[InMemorySinkEntry] = []

    @property
    def entries(self) -> tuple[InMemorySinkEntry, ...]:
        with self._lock:
            return tuple(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        request = self.make_request(family=family, payload=payload)
        entry = InMemorySinkEntry(request.family, payload,  # type: ignore[arg-type]
                                  str(request.payload_type), request.payload_ref)
        with self._lock:
            self._entries.append(entry)
        return SinkCaptureReceipt.success(detail="kept in memory")
