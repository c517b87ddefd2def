"""A sink writing one canonical JSON line per payload into ``<root>/<family>.jsonl``."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from contexta.capture.results import PayloadFamily
from contexta.capture.sinks.protocol import BaseSink, SinkCaptureReceipt, payload_json

__all__ = ["LocalJsonlSink"]


class LocalJsonlSink(BaseSink):
    """Appends whole lines with one ``write`` on an ``O_APPEND`` descriptor.

    One ``os.write`` per line keeps lines whole when several processes append
    to the same file; the line is handed to the kernel before ``capture``
    returns (no user-space buffer to lose).
    """

    def __init__(
        self,
        storage_root: str | os.PathLike[str],
        *,
        name: str = "local-jsonl",
        supported_families: tuple[PayloadFamily | str, ...] | None = None,
    ) -> None:
        super().__init__(name=name, supported_families=supported_families)
        self.storage_root = Path(storage_root)
        self._lock = threading.Lock()

    def path_for(self, family: PayloadFamily | str) -> Path:
        normalized = PayloadFamily(family.upper() if isinstance(family, str) else family)
        return self.storage_root / f"{normalized.value.lower()}.jsonl"

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        request = self.make_request(family=family, payload=payload)
        line = (payload_json(payload) + "\n").encode("utf-8")
        path = self.path_for(request.family)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(line)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                os.close(fd)
        return SinkCaptureReceipt.success(detail=str(path))
