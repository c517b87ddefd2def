"""Replay order for the outbox: capture order across outboxes, then retries for parents.

One capture sequence can end up in two outboxes: the fallback outside the
workspace while the workspace outbox could not be written, the workspace
outbox once it could again (mid-run). Replaying one file after the other then
puts children (a stage, a metric, the run's close) before their parent and
they fail with ``NotFoundError``. So replay merges the entries of every outbox
by the stamp each one got when it was spooled (:func:`next_stamp`), and
retries entries that failed for a missing parent while a pass still stores
something (:func:`replay_in_passes`), which also covers entries spooled
without a stamp by older versions. :class:`ReplayBatch` turns the final
outcomes into the result and the rewritten outbox files.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contexta.recovery.results import ReplayBatchResult, ReplayEntryResult

if TYPE_CHECKING:
    from contexta.recovery.outbox import Outbox

__all__ = ["STAMP_FIELD", "WORKSPACE_TARGET", "Outcome", "Pending", "ReplayBatch",
           "capture_order", "next_stamp", "replay_in_passes"]

logger = logging.getLogger("contexta.recovery.outbox")  # one logger for all outbox replay

STAMP_FIELD = "spooled_ns"
WORKSPACE_TARGET = "workspace"

_stamp_lock = threading.Lock()
_last_stamp = 0


def next_stamp() -> int:
    """A wall-clock stamp (ns) for a new entry, strictly increasing within this process.

    Wall clock, so entries of several processes interleave as they were captured;
    strictly increasing, so a clock step back never reorders one process's entries.
    """
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(time.time_ns(), _last_stamp + 1)
        return _last_stamp


@dataclass(frozen=True, slots=True)
class Pending:
    """One entry read from an outbox: which outbox (``source``) and its line there."""

    source: int
    position: int
    entry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one replay attempt did; ``missing_parent`` failures are worth a retry."""

    ok: bool
    detail: str
    missing_parent: bool = False


def _stamp_of(entry: Mapping[str, Any]) -> int:
    stamp = entry.get(STAMP_FIELD)
    return stamp if type(stamp) is int else 0


def capture_order(outboxes: Sequence[Sequence[dict[str, Any]]]) -> list[Pending]:
    """The entries of all ``outboxes`` in the order they were captured.

    Sorted by stamp; the sort is stable, so unstamped entries (older versions)
    come first in outbox order and equal stamps keep their file order.
    """
    items = [Pending(source, position, entry)
             for source, entries in enumerate(outboxes)
             for position, entry in enumerate(entries)]
    return sorted(items, key=lambda item: _stamp_of(item.entry))


def replay_in_passes(items: Sequence[Pending],
                     attempt: Callable[[Pending], Outcome]) -> list[Outcome]:
    """Attempt every item; retry missing-parent failures after each pass that stored something.

    A child replayed before its parent fails only because the parent is not stored
    yet, so it must neither stay pending nor count toward dead-lettering while the
    parent is still to come. The loop ends at the first pass that stores nothing,
    so an entry whose parent is truly absent fails once, not forever.
    """
    outcomes: list[Outcome] = [Outcome(False, "not attempted")] * len(items)
    todo = list(range(len(items)))
    while todo:
        retry: list[int] = []
        progress = False
        for index in todo:
            outcome = outcomes[index] = attempt(items[index])
            progress = progress or outcome.ok
            if outcome.missing_parent:
                retry.append(index)
        todo = retry if progress else []
    return outcomes


class ReplayBatch:
    """One replay over the locked outboxes: what each entry became, and the files after.

    ``outboxes`` are :class:`~contexta.recovery.outbox.Outbox` objects, already locked.
    """

    def __init__(self, outboxes: Sequence[Outbox], wanted: str, *,
                 acknowledge_successes: bool, dead_letter_after: int | None) -> None:
        self.outboxes = outboxes
        self.wanted = wanted
        self.acknowledge_successes = acknowledge_successes
        self.dead_letter_after = dead_letter_after
        self.files = [outbox.read_entries() for outbox in outboxes]
        self.results: list[ReplayEntryResult] = []
        self.warnings: list[str] = []
        # (outbox index, line) -> the entry to write back there, or None to drop it
        self.updates: dict[tuple[int, int], dict[str, Any] | None] = {}
        self.dead: list[Pending] = []
        self.acknowledged: list[Pending] = []

    def _is_wanted(self, entry: Mapping[str, Any]) -> bool:
        return entry.get("target", WORKSPACE_TARGET) == self.wanted

    def select(self, limit: int | None) -> list[Pending]:
        """The first ``limit`` entries for the target, all outboxes, in capture order."""
        items = capture_order([entries for entries, _ in self.files])
        return [item for item in items if self._is_wanted(item.entry)][:limit]

    def settle(self, items: Sequence[Pending], outcomes: Sequence[Outcome]) -> None:
        """Record each final outcome: acknowledge, count the attempt, or dead-letter."""
        for item, outcome in zip(items, outcomes, strict=True):
            self.results.append(self._settle_one(item, outcome))

    def _settle_one(self, item: Pending, outcome: Outcome) -> ReplayEntryResult:
        entry, key = item.entry, (item.source, item.position)
        attempts = int(entry.get("attempts", 0)) + 1
        status = "SUCCESS"
        if outcome.ok and self.acknowledge_successes:
            self.updates[key] = None
            self.acknowledged.append(item)
        elif not outcome.ok:
            logger.warning("outbox entry %s not replayed: %s", entry["replay_ref"],
                           outcome.detail)
            # the attempt count must reach the file, or no entry ever gets to
            # dead_letter_after_failures across replays
            failed = {**entry, "attempts": attempts, "last_error": outcome.detail}
            if self.dead_letter_after is not None and attempts >= self.dead_letter_after:
                self.updates[key] = None
                self.dead.append(Pending(item.source, item.position, failed))
                status = "DEAD_LETTERED"
            else:
                self.updates[key] = failed
                status = "FAILURE"
        return ReplayEntryResult(entry["replay_ref"], str(entry.get("family", "")),
                                 self.wanted, status, outcome.detail, attempts)

    def write_back(self) -> None:
        """Rewrite each outbox file that changed; drop acknowledged bodies only after."""
        for source, outbox in enumerate(self.outboxes):
            entries, broken = self.files[source]
            if broken:  # torn lines are kept aside, never deleted
                outbox.set_aside(broken)
                self.warnings.append(f"unreadable_outbox_lines:{len(broken)}")
            outbox.dead_letter([item.entry for item in self.dead if item.source == source])
            changed = {pos: new for (src, pos), new in self.updates.items() if src == source}
            if broken or changed:
                kept = (changed.get(pos, entry) for pos, entry in enumerate(entries))
                outbox.rewrite([entry for entry in kept if entry is not None])
        for item in self.acknowledged:
            self.outboxes[item.source].drop_body(item.entry)

    def result(self, details: Mapping[str, Any]) -> ReplayBatchResult:
        """The batch result; ``pending`` counts target entries still in the outbox files.

        ``acknowledged_count`` counts entries removed from them: none when the caller
        asked to keep successes (``acknowledge_successes=False``), which then stay pending.
        """
        stored = sum(1 for result in self.results if result.status == "SUCCESS")
        wanted = sum(1 for entries, _ in self.files for entry in entries
                     if self._is_wanted(entry))
        acknowledged = len(self.acknowledged)
        pending = wanted - acknowledged - len(self.dead)
        if not self.results or (stored == len(self.results) == wanted - len(self.dead)):
            status = "SUCCESS"
        elif stored == 0:
            status = "FAILURE"
        else:
            status = "DEGRADED"
        return ReplayBatchResult(status=status, warnings=tuple(self.warnings),
                                 entries=tuple(self.results), acknowledged_count=acknowledged,
                                 pending_count=pending, dead_lettered_count=len(self.dead),
                                 details=details)
