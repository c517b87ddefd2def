"""Liveness of open runs: heartbeats, interpreter exit and fork (contract §5.1, §8.8).

One daemon thread per process re-puts every open run with
``contexta.heartbeat_at`` at least every ``stale_run_after_seconds / 4``
seconds, so diagnostics can tell a live long run from a dead one. At
interpreter exit, scopes still open are closed ``failed``. A forked child
owns none of its parent's scopes: it neither heartbeats nor closes them.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING

from contexta.capture._clock import utc_now_text

if TYPE_CHECKING:
    from contexta.capture.session import RuntimeSession

__all__ = ["register_session", "wake"]

logger = logging.getLogger(__name__)

_sessions: weakref.WeakSet[RuntimeSession] = weakref.WeakSet()
# Sessions with open runs or deployments are held strongly, so dropping the last
# reference to a Contexta with a run still open cannot skip the close at exit.
_held: dict[int, RuntimeSession] = {}
_state_lock = threading.Lock()
_wakeup = threading.Event()
_thread: threading.Thread | None = None
_thread_pid = -1
_MIN_INTERVAL = 0.05


def register_session(session: RuntimeSession) -> None:
    with _state_lock:
        _sessions.add(session)


def hold(session: RuntimeSession) -> None:
    with _state_lock:
        _held[id(session)] = session


def release(session: RuntimeSession) -> None:
    with _state_lock:
        _held.pop(id(session), None)


def wake() -> None:
    """Make sure the heartbeat thread runs (called when a run opens)."""
    global _thread, _thread_pid
    with _state_lock:
        if _thread is None or _thread_pid != os.getpid() or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="contexta-heartbeat", daemon=True)
            _thread_pid = os.getpid()
            _thread.start()
    _wakeup.set()


def _open_runs() -> list[tuple[object, float]]:
    """(run scope, heartbeat interval) for every open run this process owns."""
    with _state_lock:
        sessions = list(_sessions)
    pid = os.getpid()
    runs: list[tuple[object, float]] = []
    for session in sessions:
        interval = max(session.heartbeat_interval, _MIN_INTERVAL)
        runs.extend((run, interval) for run in session.open_runs() if run._owner_pid == pid)
    return runs


def _loop() -> None:
    while True:
        runs = _open_runs()
        if not runs:
            _wakeup.wait()
            _wakeup.clear()
            continue
        now = time.monotonic()
        next_due = now + 3600.0
        for run, interval in runs:
            due = run._last_heartbeat + interval  # type: ignore[attr-defined]
            if due <= now:
                run._last_heartbeat = now  # type: ignore[attr-defined]
                try:
                    run.heartbeat(utc_now_text())  # type: ignore[attr-defined]
                except Exception as exc:  # a failed heartbeat must not stop the others
                    logger.warning("heartbeat of %s failed: %s", run, exc)
                due = now + interval
            next_due = min(next_due, due)
        _wakeup.wait(max(next_due - time.monotonic(), 0.0))
        _wakeup.clear()


def _close_at_exit() -> None:
    """Interpreter exit: scopes still open in this process end as ``failed`` (§5.1)."""
    with _state_lock:
        sessions = list(_sessions)
    for session in sessions:
        try:
            session.close_open_scopes(status="failed", reason="interpreter_exit")
        except Exception as exc:
            logger.warning("closing open scopes at exit failed: %s", exc)


def _after_fork_in_child() -> None:
    # Locks held by another thread at fork time stay locked in the child: rebuild them.
    global _thread, _thread_pid, _state_lock, _wakeup
    _state_lock = threading.Lock()
    _wakeup = threading.Event()
    _thread = None
    _thread_pid = -1
    for session in list(_sessions):
        session._after_fork()


atexit.register(_close_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
