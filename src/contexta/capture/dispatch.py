"""Fan-out of stored captures to extra sinks (contract §8.6).

The workspace stores are written before dispatch; a sink only ever gets a
copy. A sink exception is retried ``capture.retry_attempts`` times with
exponential backoff and then reported as a ``FAILURE`` delivery, which makes
the result ``DEGRADED`` (reason ``sink_failed:<name>``); in outbox mode the
payload is spooled for ``replay_outbox(config, target=<sink name>)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from contexta.capture._clock import new_hex
from contexta.capture.results import (
    BatchCaptureResult,
    CaptureResult,
    Delivery,
    DeliveryStatus,
    ResultStatus,
)
from contexta.capture.sinks.protocol import Sink
from contexta.errors import CaptureError

__all__ = ["CaptureDispatcher", "dispatch_batch_capture_result", "dispatch_capture_result"]

logger = logging.getLogger(__name__)
_WARN_EVERY_SECONDS = 60.0
_last_warning: dict[str, float] = {}


def _warn_rate_limited(sink_name: str, attempts: int, error: BaseException) -> None:
    """One warning per sink per minute: a dead collector must not flood the host's log."""
    now = time.monotonic()
    if now - _last_warning.get(sink_name, -_WARN_EVERY_SECONDS) >= _WARN_EVERY_SECONDS:
        _last_warning[sink_name] = now
        logger.warning("sink %s failed after %d attempt(s): %s (further failures of this "
                       "sink are logged at most once a minute)", sink_name, attempts, error)


class CaptureDispatcher:
    """Delivers results to ``sinks``; never raises for a sink's failure."""

    def __init__(self, config: Any, sinks: Sequence[Sink] = (), *, outbox: Any = None) -> None:
        self.config = config
        self.sinks: tuple[Sink, ...] = tuple(sinks)
        capture = getattr(config, "capture", None)
        self.retry_attempts = int(getattr(capture, "retry_attempts", 0))
        self.retry_backoff_seconds = float(getattr(capture, "retry_backoff_seconds", 0.0))
        self.failure_mode = str(getattr(capture, "dispatch_failure_mode", "outbox"))
        self._outbox = outbox

    def _spool(self, sink: Sink, result: CaptureResult, error: BaseException) -> str | None:
        if self.failure_mode != "outbox":
            return None
        outbox = self._outbox
        if outbox is None:
            recovery = getattr(self.config, "recovery", None)
            root = getattr(recovery, "outbox_root", None)
            if root is None:
                return None
            from contexta.recovery.outbox import Outbox

            outbox = self._outbox = Outbox(root)
        kind = _kind_of(result.payload)
        if kind is None:
            return None
        from contexta.contract import to_payload

        try:
            return str(outbox.spool(replay_ref=f"replay:{new_hex(20)}", kind=kind,
                                    family=result.family.value,  # type: ignore[union-attr]
                                    payload=to_payload(result.payload), target=sink.name,
                                    error=f"{type(error).__name__}: {error}"))
        except CaptureError as exc:
            logger.warning("sink delivery for %s could not be spooled: %s", sink.name, exc)
            return None

    def _deliver(self, sink: Sink, result: CaptureResult) -> tuple[Delivery, str | None]:
        family = result.family
        if not sink.supports(family):  # type: ignore[arg-type]
            return Delivery(sink.name, family, DeliveryStatus.SKIPPED,
                            "family not supported by sink"), None
        attempts = self.retry_attempts + 1
        for attempt in range(attempts):
            try:
                receipt = sink.capture(family=family, payload=result.payload)
            except Exception as exc:  # a sink never breaks the capture
                if attempt + 1 < attempts:
                    backoff = self.retry_backoff_seconds * (2**attempt)
                    if backoff > 0:
                        time.sleep(backoff)
                    continue
                _warn_rate_limited(sink.name, attempts, exc)
                replay_ref = self._spool(sink, result, exc)
                detail = f"{type(exc).__name__}: {exc}"
                return Delivery(sink.name, family, DeliveryStatus.FAILURE, detail,
                                {"attempts": attempts, "replay_ref": replay_ref}), replay_ref
            status = getattr(receipt, "status", DeliveryStatus.SUCCESS)
            return Delivery(sink.name, family, status, getattr(receipt, "detail", ""),
                            getattr(receipt, "metadata", None)), None
        msg = "unreachable"
        raise AssertionError(msg)  # pragma: no cover

    def dispatch_capture(self, result: CaptureResult) -> CaptureResult:
        """Deliver one stored result to every sink; returns the result with deliveries added."""
        if not self.sinks or result.failed or result.payload is None:
            return result
        deliveries = list(result.deliveries)
        reasons = list(result.degradation_reasons)
        replay_refs = list(result.replay_refs)
        for sink in self.sinks:
            delivery, replay_ref = self._deliver(sink, result)
            deliveries.append(delivery)
            if delivery.status is DeliveryStatus.FAILURE:
                reasons.append(f"sink_failed:{sink.name}")
            elif delivery.status is DeliveryStatus.DEGRADED:
                reasons.append(f"sink_degraded:{sink.name}")
            if replay_ref:
                replay_refs.append(replay_ref)
        if len(reasons) == len(result.degradation_reasons):
            return CaptureResult(**{**_fields(result), "deliveries": tuple(deliveries)})
        return CaptureResult(**{
            **_fields(result),
            "status": ResultStatus.DEGRADED,
            "degradation_notes": (),
            "deliveries": tuple(deliveries),
            "degradation_reasons": tuple(reasons),
            "replay_refs": tuple(replay_refs),
            "recovered_to_outbox": result.recovered_to_outbox or len(replay_refs) > len(
                result.replay_refs),
        })

    def dispatch_batch(self, batch: BatchCaptureResult) -> BatchCaptureResult:
        """Deliver every item of a batch; the batch status is recomputed."""
        if not self.sinks:
            return batch
        results = [self.dispatch_capture(item) for item in batch.items]
        return BatchCaptureResult.from_results(batch.family, results)


def _fields(result: CaptureResult) -> dict[str, Any]:
    return {name: getattr(result, name) for name in CaptureResult.__dataclass_fields__}


def _kind_of(payload: object) -> str | None:
    from contexta.capture._kinds import kind_of

    return kind_of(payload)


def dispatch_capture_result(
    config: Any, result: CaptureResult, *, sinks: Sequence[Sink] | None = None
) -> CaptureResult:
    """Function form of :meth:`CaptureDispatcher.dispatch_capture`."""
    return CaptureDispatcher(config, sinks or ()).dispatch_capture(result)


def dispatch_batch_capture_result(
    config: Any, batch: BatchCaptureResult, *, sinks: Sequence[Sink] | None = None
) -> BatchCaptureResult:
    """Function form of :meth:`CaptureDispatcher.dispatch_batch`."""
    return CaptureDispatcher(config, sinks or ()).dispatch_batch(batch)
