"""Contract tests: make ``tests.strategies`` importable and use the ``ci`` hypothesis profile."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import tests.strategies  # noqa: E402, F401  (registers the "ci" profile)
from hypothesis import settings  # noqa: E402

try:
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except Exception:  # an unknown profile name elsewhere must not break these tests
    settings.load_profile("ci")
