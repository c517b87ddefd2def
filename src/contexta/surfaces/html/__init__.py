"""Self-contained HTML rendering of stored data (architecture §6).

Pages are built from the facade's read models and carry their own CSS and SVG charts:
no CDN, no script, no network. Every data string is HTML-escaped where it becomes markup
(contract §10.4), in ``_markup``; charts live in ``_charts``, the page shell in ``_page``.
"""

from __future__ import annotations

from contexta.surfaces.html.project_report import render_project_report

__all__ = ["render_project_report"]
