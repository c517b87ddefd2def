"""``python -m contexta``: the same program as the ``contexta`` console script."""

from __future__ import annotations

from contexta.surfaces.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
