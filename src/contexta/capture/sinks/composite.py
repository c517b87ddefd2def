"""A sink that forwards each payload to every member taking its family."""

from __future__ import annotations

from collections.abc import Sequence

from contexta.capture.results import DeliveryStatus, PayloadFamily
from contexta.capture.sinks.protocol import BaseSink, Sink, SinkCaptureReceipt
from contexta.errors import DispatchError

__all__ = ["CompositeSink"]


class CompositeSink(BaseSink):
    """Forwards to members; a failing member makes the receipt ``DEGRADED``.

    If every eligible member fails, the error is raised so the dispatcher can
    retry and report the composite as failed.
    """

    def __init__(self, sinks: Sequence[Sink], *, name: str = "composite") -> None:
        members = tuple(sinks)
        families: list[PayloadFamily] = []
        for sink in members:
            for family in sink.supported_families:
                if family not in families:
                    families.append(family)
        super().__init__(name=name, supported_families=tuple(families) or None)
        self.sinks = members

    def capture(self, *, family: PayloadFamily | str, payload: object) -> SinkCaptureReceipt:
        failures: list[str] = []
        delivered = 0
        degraded = False
        first_error: BaseException | None = None
        for sink in self.sinks:
            if not sink.supports(family):
                continue
            try:
                receipt = sink.capture(family=family, payload=payload)
            except Exception as exc:  # a member failure is reported, never raised alone
                failures.append(f"{sink.name}: {exc}")
                first_error = first_error or exc
                continue
            delivered += 1
            degraded = degraded or receipt.status is DeliveryStatus.DEGRADED
        if failures and delivered == 0:
            message = f"every member of composite sink {self.name!r} failed: {'; '.join(failures)}"
            raise DispatchError(message, details={"sink_name": self.name},
                                cause=first_error)
        if failures or degraded:
            return SinkCaptureReceipt.degraded(detail="; ".join(failures) or "member degraded")
        return SinkCaptureReceipt.success(detail=f"{delivered} member(s)")
