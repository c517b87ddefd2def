"""Scope lifecycle shared by every capture scope (contract §8.1).

A scope is written when it opens and again when it closes. Closing a parent
closes its open children first with the same status; a ``with`` block left by
an exception closes the scope ``failed`` (``cancelled`` for
``KeyboardInterrupt``), records one ``contexta.exception`` event and re-raises.
"""

from __future__ import annotations

import logging
import os
import re
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
_SUMMARY_CHARS = 100_000
# Cc characters other than \n and \t, and lone surrogates: not valid free text (§3.2).
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def readable_text(text: str) -> str:
    """``text`` made valid free text (§3.2) without losing what it said.

    Control characters other than newline and tab, and lone surrogates, become
    visible escapes (``\\x1b``, ``\\udc80``), so an ANSI-coloured message still
    reads as its words plus the escape codes.
    """
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def exception_type_name(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def exception_message(exc: BaseException) -> str:
    """``str(exc)``, or ``<unprintable Name>`` when its ``__str__`` fails (bug in user code)."""
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__}>"


def exception_traceback(exc: BaseException) -> str:
    """The formatted traceback, keeping its last ``_TRACEBACK_CHARS`` characters."""
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # a hostile exception can break formatting too
        text = f"{type(exc).__name__}: {exception_message(exc)}\n"
    text = readable_text(text)
    if len(text) > _TRACEBACK_CHARS:
        text = "…" + text[-(_TRACEBACK_CHARS - 1):]
    return text


def exception_event_fields(exc: BaseException, scope_ref: str) -> tuple[str, dict[str, Any]]:
    """``(message, attributes)`` of the ``contexta.exception`` event, always valid text."""
    message = readable_text(exception_message(exc))
    name = type(exc).__name__
    summary = f"{name}: {message}" if message.strip() else name
    attributes = {"type": exception_type_name(exc), "message": message[:_TRACEBACK_CHARS],
                  "traceback": exception_traceback(exc), "scope_ref": scope_ref}
    return summary[:_SUMMARY_CHARS], attributes


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
        """Store one ``contexta.exception`` event (type, message, traceback ≤ 10,000 chars).

        Never raises: recording must not replace the user's exception (§8.1). If the
        event cannot be stored, a degraded marker says so instead.
        """
        factory = self._factory
        if factory is None or not self._session._first_sighting(exc):
            return
        try:
            summary, attributes = exception_event_fields(exc, self.ref)
            record = factory.event("contexta.exception", summary, level, attributes)
            self._writer.append(record, run_key=self._run_key, strict=False,
                                factory=self._marker_factory)
        except Exception as error:  # never hide the user's exception behind ours
            self._exception_not_recorded(factory, exc, error)

    def _exception_not_recorded(self, factory: RecordFactory, exc: BaseException,
                                error: Exception) -> None:
        """Leave a marker (or at least a log line) when the exception event was lost."""
        logger.warning("exception in %s could not be recorded: %s", self.ref, error)
        try:
            marker = factory.degraded(
                "capture.exception_not_recorded", "capture", "warning",
                f"a {type(exc).__name__} ended {self.ref} but could not be recorded",
                attributes={"type": exception_type_name(exc),
                            "error": readable_text(truncate_value(error))},
                degradation_marker="capture_gap")
            self._writer.append(marker, run_key=self._run_key, strict=False,
                                factory=self._marker_factory)
        except Exception as marker_error:
            logger.warning("marker for the lost exception of %s failed: %s", self.ref,
                           marker_error)

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
