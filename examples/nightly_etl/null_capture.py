"""Capture switched off: stand-ins with the scope methods the pipeline calls, doing nothing.

Used by ``--no-capture`` so the overhead benchmark runs the very same pipeline code with
and without Contexta.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NullContexta"]


class _NullScope:
    """A run, stage or batch scope that records nothing."""

    def __enter__(self) -> _NullScope:
        return self

    def __exit__(self, *exc_info: object) -> bool:
        return False

    def stage(self, name: str, **kwargs: Any) -> _NullScope:
        return self

    def batch(self, name: str, **kwargs: Any) -> _NullScope:
        return self

    def metric(self, key: str, value: float, **kwargs: Any) -> None:
        return None

    def event(self, key: str, **kwargs: Any) -> None:
        return None

    def profile(self, frame: object, **kwargs: Any) -> None:
        return None

    def register_artifact(self, kind: str, path: object, **kwargs: Any) -> None:
        return None


class NullContexta:
    """Same surface as the part of ``contexta.Contexta`` the pipeline uses."""

    def run(self, name: str, **kwargs: Any) -> _NullScope:
        return _NullScope()

    def close(self) -> None:
        return None
