"""Record plane: events, metrics, spans and degraded markers (contract.md §4.4).

Appends are acknowledged once written to a per-process spool and indexed into
the workspace database in batches; reads see this process's appends at once and
other processes' after their ``flush()``/close or within a second.
"""

from __future__ import annotations

from contexta.config import RecordStoreConfig
from contexta.errors import AppendError
from contexta.errors import RecordReplayError as ReplayError
from contexta.store.records.integrity import (
    check_integrity,
    export_jsonl,
    rebuild_indexes,
    repair_truncated_tails,
)
from contexta.store.records.models import (
    AppendReceipt,
    AppendRejection,
    AppendResult,
    DurabilityMode,
    DurabilityStatus,
    IntegrityIssue,
    IntegrityReport,
    IntegrityState,
    KnownGap,
    LayoutMode,
    RepairReport,
    ReplayMode,
    ReplayResult,
    ScanFilter,
    StoredRecord,
)
from contexta.store.records.rows import MetricValueRow, RecordRow
from contexta.store.records.store import RecordStore

StoreConfig = RecordStoreConfig

__all__ = [
    "RecordStore",
    "StoreConfig",
    "RecordStoreConfig",
    "DurabilityMode",
    "LayoutMode",
    "AppendReceipt",
    "AppendRejection",
    "AppendResult",
    "DurabilityStatus",
    "ScanFilter",
    "StoredRecord",
    "ReplayMode",
    "ReplayResult",
    "KnownGap",
    "IntegrityState",
    "IntegrityIssue",
    "IntegrityReport",
    "check_integrity",
    "RepairReport",
    "rebuild_indexes",
    "repair_truncated_tails",
    "export_jsonl",
    "AppendError",
    "ReplayError",
]

_ = (MetricValueRow, RecordRow)  # internal read rows, importable but not public
