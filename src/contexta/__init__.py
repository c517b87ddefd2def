"""Contexta: local-first observability for ML and data pipelines.

A pipeline records runs, stages, batches, metrics, events and degraded markers
into a workspace (``.contexta/`` by default: one SQLite database plus an
artifact vault); afterwards the facade answers what happened, what changed and
what broke, from stored data alone. The facade ``Contexta`` wires
configuration, stores and services together and holds no logic of its own.
"""

from __future__ import annotations

import logging as _logging

from contexta.errors import *  # noqa: F403
from contexta.errors import ContextaError as ContextaError
from contexta.errors import __all__ as _error_names

__version__ = "0.1.0"

_logging.getLogger("contexta").addHandler(_logging.NullHandler())

__all__ = ["Contexta", "__version__", *_error_names]  # noqa: F405 - Contexta resolves lazily


def __getattr__(name: str) -> object:
    # The facade pulls in every layer; import it on first use so that
    # `import contexta.contract` stays cheap.
    if name == "Contexta":
        from contexta.api import Contexta

        return Contexta
    msg = f"module 'contexta' has no attribute {name!r}"
    raise AttributeError(msg)
