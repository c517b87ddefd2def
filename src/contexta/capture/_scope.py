"""Scope lifecycle shared by every capture scope (contract §8.1).

A scope is written when it opens and again when it closes. Closing a parent
closes its open children first with the same status; a ``with`` block left by
an exception closes the scope ``failed`` (``cancelled`` for
``KeyboardInterrupt``), records one ``contexta.exception`` event and re-raises.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from typing import TYPE_CHECKING, Any, ClassVar

from contexta.capture._clock import RecordIds, parse_utc_text, utc_now_text
from contexta.capture._emitting import Emitter
from contexta.capture._records import ActiveContext, RecordFactory
from contexta.errors import (
    ClosedScopeError,
    ContextaError,
    LifecycleError,
    truncate_value,
)

if TYPE_CHECKING:
    from contexta.capture.scopes import RunScope
    from contexta.capture.session import RuntimeSession

__all__ = ["TERMINAL_STATUSES", "Scope"]

logger = logging.getLogger(__name__)
TERMINAL_STATUSES = ("completed", "failed", "cancelled")
_TRACEBACK_CHARS = 10_000


def later_of(started_at: str, now: str) -> str:
    """``now``, unless the wall clock went back: then ``started_at`` (§3.4 time order)."""
    return now if parse_utc_text(now) >= parse_utc_text(started_at) else started_at


class Scope(Emitter):
    """Base of every scope: refs, status, children, context manager, capture calls."""

    kind: ClassVar[str] = "scope"

    def __init__(self, session: RuntimeSession, parent: Scope | None, *, ref: Any, name: str,
                 context: ActiveContext, strict: bool, started_at: str | None = None) -> None:
        self._session = session
        self._parent = parent
        self._ref = ref
        self._name = name
        self._context = context
        self._strict = strict
        self._started_at = started_at or utc_now_text()
        self._closed_at: str | None = None
        self._status = "open"
        self._closed = False
        self._lock = threading.RLock()
        self._children: list[Scope] = []
        self._owner_pid = os.getpid()
        self._writer = session.writer
        self._redact = session.redactor.mode != "off"
        run_ref = context.run_ref
        # Outbox bookkeeping key: the run, or the scope itself when it has no run.
        self._run_key = str(run_ref) if run_ref is not None else str(ref)
        root = self.run_scope
        # One id sequence per run keeps record refs unique across all its scopes.
        self._record_ids: RecordIds = root._record_ids if root is not None and root is not self \
            else RecordIds()
        self._factory = (RecordFactory(context, session.producer_ref, self._record_ids)
                         if run_ref is not None else None)
        self._marker_factory = root._factory if root is not None else self._factory

    # -- public properties ---------------------------------------------------------------
    @property
    def ref(self) -> str:
        """Full ref text of this scope."""
        return str(self._ref)

    @property
    def name(self) -> str:
        return self._name

    @property
    def started_at(self) -> str:
        return self._started_at

    @property
    def closed_at(self) -> str | None:
        return self._closed_at

    @property
    def status(self) -> str:
        """``open`` until closed, then ``completed``, ``failed`` or ``cancelled``."""
        return self._status

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def ctx(self) -> Any:
        """The owning ``Contexta`` instance."""
        return self._session.owner

    @property
    def run_scope(self) -> RunScope | None:
        """The run this scope belongs to (``None`` for a deployment without a run scope)."""
        scope: Scope | None = self
        while scope is not None and scope.kind != "run":
            scope = scope._parent
        return scope  # type: ignore[return-value]

    @property
    def parent(self) -> Scope | None:
        return self._parent

    @property
    def context(self) -> ActiveContext:
        """The refs this scope stamps on what it captures."""
        return self._context

    # -- helpers used by the capture calls ---------------------------------------------------
    def _require_factory(self) -> RecordFactory:
        if self._closed:
            message = f"{self.kind} scope {self.ref} is closed ({self._status}); open a new one"
            raise ClosedScopeError(message, code="runtime_scope_closed",
                                   details={"ref": self.ref, "status": self._status})
        factory = self._factory
        if factory is None:
            message = (f"{self.kind} scope {self.ref} is not attached to a run, so it cannot "
                       "hold records; pass run_ref= when opening it")
            raise LifecycleError(message, code="runtime_capture_requires_run",
                                 details={"ref": self.ref})
        return factory

    def _run_scope_for_artifacts(self) -> Scope:
        return self.run_scope or self

    def _log_lost(self, what: str, name: str) -> None:
        logger.warning("%s %r of %s could not be recorded", what, name, self.ref)

    def _check_open(self) -> None:
        if self._closed:
            message = f"{self.kind} scope {self.ref} is closed ({self._status})"
            raise ClosedScopeError(message, code="runtime_scope_closed",
                                   details={"ref": self.ref, "status": self._status})

    # -- lifecycle -----------------------------------------------------------------------
    def _open_model(self) -> Any:
        """The model written when the scope opens (``None``: nothing to write)."""
        return None

    def _close_model(self, status: str, ended_at: str) -> Any:
        """The model written when the scope closes (``None``: nothing to write)."""
        return None

    def _write_open(self) -> None:
        model = self._open_model()
        if model is not None:
            self._writer.put(model, run_key=self._run_key, strict=self._strict,
                             factory=self._marker_factory)

    def _add_child(self, child: Scope) -> None:
        with self._lock:
            self._children.append(child)

    def _remove_child(self, child: Scope) -> None:
        with self._lock:
            if child in self._children:
                self._children.remove(child)

    def close(self, *, status: str = "completed") -> None:
        """Close with ``completed``, ``failed`` or ``cancelled``; a second close is a no-op."""
        if status not in TERMINAL_STATUSES:
            message = f"status must be one of {TERMINAL_STATUSES}; got {truncate_value(status)}"
            raise LifecycleError(message, code="runtime_invalid_close_status",
                                 details={"field": "status", "value": truncate_value(status),
                                          "allowed": list(TERMINAL_STATUSES)})
        with self._lock:
            if self._closed:
                logger.debug("%s scope %s closed twice; ignored", self.kind, self.ref)
                return
            children = list(self._children)
        for child in reversed(children):
            child.close(status=status)
        error: BaseException | None = None
        with self._lock:
            if self._closed:
                return
            ended_at = later_of(self._started_at, utc_now_text())
            try:
                self._write_close(status, ended_at)
            except Exception as exc:  # the scope still ends; strict callers see the error
                error = exc
            self._closed = True
            self._status = status
            self._closed_at = ended_at
        if self._parent is not None:
            self._parent._remove_child(self)
        self._session._scope_closed(self)
        if error is not None:
            if self._strict or not isinstance(error, ContextaError):
                raise error
            logger.warning("closing %s scope %s was not recorded: %s", self.kind, self.ref,
                           error)

    def _write_close(self, status: str, ended_at: str) -> None:
        model = self._close_model(status, ended_at)
        if model is not None:
            self._writer.put(model, run_key=self._run_key, strict=self._strict,
                             factory=self._marker_factory)

    def record_exception(self, exc: BaseException, *, level: str = "error") -> None:
        """Store one ``contexta.exception`` event (type, message, traceback ≤ 10,000 chars)."""
        if self._factory is None or not self._session._first_sighting(exc):
            return
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if len(text) > _TRACEBACK_CHARS:
            text = "…" + text[-(_TRACEBACK_CHARS - 1):]
        message = str(exc)
        summary = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        attributes = {"type": f"{type(exc).__module__}.{type(exc).__qualname__}",
                      "message": message[:_TRACEBACK_CHARS], "traceback": text,
                      "scope_ref": self.ref}
        try:
            record = self._factory.event("contexta.exception", summary[:100_000] or "exception",
                                         level, attributes)
            self._writer.append(record, run_key=self._run_key, strict=False,
                                factory=self._marker_factory)
        except Exception as error:  # never hide the user's exception behind ours
            logger.warning("exception in %s could not be recorded: %s", self.ref, error)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if exc is None:
            self.close(status="completed")
            return
        status = "failed"
        level = "error"
        if isinstance(exc, KeyboardInterrupt):
            status, level = "cancelled", "warning"
        elif isinstance(exc, SystemExit) and exc.code in (0, None):
            status = "completed"
        if status != "completed" and not self._closed:
            self.record_exception(exc, level=level)
        try:
            self.close(status=status)
        except Exception as error:  # the user's exception wins
            logger.warning("closing %s after an exception failed: %s", self.ref, error)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ref={self.ref!r}, status={self._status!r})"
