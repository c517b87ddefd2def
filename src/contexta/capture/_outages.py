"""Bookkeeping of capture gaps, turned into ``capture.delivery_degraded`` markers (§8.5).

One marker per run and outage, not one per lost capture: a store that is down
for the rest of a run must not double the number of records. Store gaps are
reported on the first write the store takes again; sink-only gaps (the store
has everything) at run close.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from contexta.capture._clock import utc_now_text
from contexta.capture._records import RecordFactory

__all__ = ["Outage", "OutageLedger"]

_MAX_REFS = 20


@dataclass(slots=True)
class Outage:
    """Captures of one run that did not reach every target since the last marker."""

    factory: RecordFactory | None
    since: str
    first_error: str
    spooled: int = 0
    sink_failures: Counter[str] = field(default_factory=Counter)
    replay_refs: list[str] = field(default_factory=list)

    def merge(self, other: Outage) -> None:
        self.spooled += other.spooled
        self.sink_failures.update(other.sink_failures)
        self.replay_refs = (self.replay_refs + other.replay_refs)[:_MAX_REFS]
        self.factory = self.factory or other.factory

    def marker(self, outbox_root: str) -> Any:
        parts = []
        if self.spooled:
            parts.append(f"{self.spooled} capture(s) could not be stored and were spooled "
                         "to the outbox")
        if self.sink_failures:
            failed = ", ".join(f"{name} ({count})" for name, count in
                               sorted(self.sink_failures.items()))
            parts.append(f"deliveries failed for sinks {failed}")
        assert self.factory is not None
        return self.factory.degraded(
            "capture.delivery_degraded", "capture", "warning", "; ".join(parts),
            attributes={"spooled_count": self.spooled,
                        "sink_failures": dict(sorted(self.sink_failures.items())),
                        "replay_refs": list(self.replay_refs), "since": self.since,
                        "first_error": self.first_error, "outbox_root": outbox_root},
            degradation_marker="capture_gap")


class OutageLedger:
    """Thread-safe map from run key to its pending :class:`Outage`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Read without the lock on the hot path: ``if ledger.pending`` is a dict check.
        self.pending: dict[str, Outage] = {}

    def note(self, run_key: str, factory: RecordFactory | None, error: str, *,
             spooled: int = 0, sinks: tuple[str, ...] = (),
             replay_refs: tuple[str, ...] | list[str] = ()) -> bool:
        """Record a gap; True when it opens a new outage for the run."""
        with self._lock:
            outage = self.pending.get(run_key)
            opened = outage is None
            if outage is None:
                outage = self.pending[run_key] = Outage(factory, utc_now_text(), error)
            outage.factory = outage.factory or factory
            outage.spooled += spooled
            outage.sink_failures.update(sinks)
            room = _MAX_REFS - len(outage.replay_refs)
            outage.replay_refs.extend(list(replay_refs)[:max(room, 0)])
        return opened

    def take(self, run_key: str, *, final: bool) -> Outage | None:
        """Pop the outage that is due: a store gap always, a sink-only gap at run close."""
        with self._lock:
            outage = self.pending.get(run_key)
            if outage is None or not (final or outage.spooled):
                return None
            return self.pending.pop(run_key)

    def put_back(self, run_key: str, outage: Outage) -> None:
        """The marker could not be written yet: keep it, merged with newer gaps."""
        with self._lock:
            newer = self.pending.get(run_key)
            if newer is not None:
                outage.merge(newer)
            self.pending[run_key] = outage
