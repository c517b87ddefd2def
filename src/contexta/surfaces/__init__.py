"""Surfaces: the ways people reach recorded data (CLI, HTTP JSON API, HTML, notebook).

Each surface is an adapter over the ``Contexta`` facade with no business rules of
its own. Sub-packages are imported on demand, so importing this package costs
nothing: ``contexta.surfaces.cli`` (``python -m contexta``), ``contexta.surfaces.http``,
``contexta.surfaces.html``.
"""

from __future__ import annotations

__all__: list[str] = []
