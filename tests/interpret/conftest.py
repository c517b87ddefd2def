"""Interpretation tests: make ``tests.interpret.*`` helpers importable."""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


import pytest  # noqa: E402
from tests.interpret.builders import Builder, StoreTarget  # noqa: E402
from tests.interpret.record_builders import NOW  # noqa: E402

from contexta.config.interpretation import DiagnosticsPolicy, InterpretationConfig  # noqa: E402
from contexta.interpretation import (  # noqa: E402
    CompositeStoreRepository,
    DiagnosticsService,
    QueryService,
)


@pytest.fixture
def env(ctx, tmp_path):
    """(builder on a real workspace, ``diagnose(run_id, **DiagnosticsPolicy fields)``)."""
    builder = Builder(StoreTarget(ctx), "proj", tmp_path=tmp_path)
    qs = QueryService(
        CompositeStoreRepository(ctx.metadata_store, ctx.record_store, ctx.artifact_store)
    )

    def diagnose(run_id, *, clock=lambda: NOW, **policy):
        config = InterpretationConfig(diagnostics=DiagnosticsPolicy(**policy))
        return DiagnosticsService(qs, config=config, clock=clock).diagnose_run(run_id)

    return builder, diagnose
