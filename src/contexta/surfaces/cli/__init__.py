"""The ``contexta`` command line (contract §10): an adapter from flags to one facade call.

Global options come before the command; results go to stdout, everything else to
stderr; ``main`` maps every outcome to an exit code once (0 ok, 1 handled error or
``--fail-on`` reached, 2 usage, 130 interrupted). Built on click with standalone
mode off (style.md "CLI: click").
"""

from __future__ import annotations

from contexta.surfaces.cli.app import cli, main

__all__ = ["cli", "main"]
