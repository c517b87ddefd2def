"""What the outbox tests share: the config patch that makes every store refuse writes."""

from __future__ import annotations

READ_ONLY = {"metadata": {"read_only": True}, "records": {"read_only": True},
             "artifacts": {"read_only": True}}
