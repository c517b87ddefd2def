"""Reference import path for the capture runtime; the real home is ``contexta.capture.session``."""

from __future__ import annotations

from contexta.capture.session import ActiveContext, ContextState, RuntimeSession

__all__ = ["ActiveContext", "ContextState", "RuntimeSession"]
