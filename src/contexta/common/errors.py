"""Reference import path for the error classes; the real home is ``contexta.errors``."""

from __future__ import annotations

from contexta.errors import *  # noqa: F403
from contexta.errors import __all__ as _errors_all

__all__ = list(_errors_all)
