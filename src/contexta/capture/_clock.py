"""UTC wall-clock text and random ids for capture (contract §3.4 canonical form).

Capture stamps every record, so these helpers sit on the hot path of
``metric()``: the seconds prefix is cached per second instead of running
``strftime`` on each call.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from datetime import UTC, datetime

__all__ = ["RecordIds", "new_hex", "parse_utc_text", "utc_now_text", "utc_text"]

_cache: tuple[int, str] = (-1, "")


def utc_now_text() -> str:
    """Return now in UTC as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (contract §3.4)."""
    global _cache
    ns = time.time_ns()
    seconds, rest = divmod(ns, 1_000_000_000)
    micros = rest // 1000
    cached_seconds, prefix = _cache
    if cached_seconds != seconds:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _cache = (seconds, prefix)
    if micros:
        return f"{prefix}.{micros:06d}Z"
    return prefix + "Z"


def utc_text(moment: datetime) -> str:
    """Canonical text of an aware (or UTC-naive) datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc_text(text: str) -> datetime:
    """Parse a canonical timestamp produced by :func:`utc_now_text`."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_hex(chars: int) -> str:
    """Random lower-case hex of ``chars`` characters (refs and span ids)."""
    return os.urandom((chars + 1) // 2).hex()[:chars]


_fork_generation = 0


def _after_fork_in_child() -> None:
    global _fork_generation
    _fork_generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


class RecordIds:
    """The 12-hex id part of record refs, unique within a run by construction.

    A random 6-hex prefix plus a 6-hex counter, with a fresh distinct prefix
    every 16.7 million records. Fully random 48-bit ids would collide (and a
    colliding ref is a dropped or refused record) with probability ~17 % at
    10^7 records in one run, and ``os.urandom`` per record would add a system
    call to the hot path. A forked child starts over with its own prefix.
    """

    __slots__ = ("_counter", "_generation", "_lock", "_prefixes")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._prefixes = [new_hex(6)]
        self._counter = itertools.count()
        self._generation = _fork_generation

    def _prefix(self, epoch: int) -> str:
        with self._lock:
            while len(self._prefixes) <= epoch:
                fresh = new_hex(6)
                if fresh not in self._prefixes:
                    self._prefixes.append(fresh)
            return self._prefixes[epoch]

    def next(self) -> str:
        if self._generation != _fork_generation:
            with self._lock:
                if self._generation != _fork_generation:
                    self._reset()
        epoch, number = divmod(next(self._counter), 0x1000000)  # count() is atomic
        prefixes = self._prefixes
        prefix = prefixes[epoch] if epoch < len(prefixes) else self._prefix(epoch)
        return f"{prefix}{number:06x}"
