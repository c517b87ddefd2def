"""Kept for scripts written against the reference; see ``contexta.common.errors``."""

from __future__ import annotations

__all__: list[str] = []
