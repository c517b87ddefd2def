"""Interpretation layer: queries, snapshots, diagnostics, anomalies, trends and provenance.

Services read the workspace only through the reader protocols of ``repository.py``; the
store-backed ``CompositeStoreRepository`` uses indexed, set-based queries. Everything a
service derives (run lists, snapshots, per-run metric summaries) is cached under the store's
``data_version()``, so analysing N runs in a loop is linear and any write is seen at once.
Results are frozen dataclasses (``read_models.py``, ``results.py``). The public import path is
``contexta.interpretation``.
"""

from __future__ import annotations

from contexta.interpret.anomaly import AnomalyService
from contexta.interpret.diagnostics import DIAGNOSTIC_CODES, DiagnosticsService
from contexta.interpret.provenance import ProvenanceService
from contexta.interpret.query import QueryService
from contexta.interpret.repository import CompositeStoreRepository
from contexta.interpret.trend import TrendService

__all__ = [
    "DIAGNOSTIC_CODES",
    "AnomalyService",
    "CompositeStoreRepository",
    "DiagnosticsService",
    "ProvenanceService",
    "QueryService",
    "TrendService",
]
