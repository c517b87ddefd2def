"""Recovery: moving captured data back into the stores and protecting workspaces (§11).

So far this package holds the capture outbox (:func:`replay_outbox`), which
moves captures that the stores could not take into the workspace once they
can. Backup, verification and restore join it in their own modules.
"""

from __future__ import annotations

from contexta.errors import BackupError, ReplayError, RestoreError
from contexta.recovery.outbox import (
    RecoveryResult,
    ReplayBatchResult,
    ReplayEntryResult,
    replay_outbox,
)

__all__ = [
    "replay_outbox",
    "RecoveryResult",
    "ReplayBatchResult",
    "ReplayEntryResult",
    "BackupError",
    "RestoreError",
    "ReplayError",
]
