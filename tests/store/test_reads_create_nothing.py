"""Reading a workspace that does not exist leaves nothing behind (contract §5.1)."""

from __future__ import annotations

from pathlib import Path

from contexta import Contexta


def test_record_reads_on_a_missing_workspace_create_nothing(tmp_path: Path) -> None:
    root = tmp_path / "missing"
    ctx = Contexta(workspace=str(root), config={"project_name": "p"})
    store = ctx.record_store
    assert list(store.scan()) == []
    assert store.replay().record_count == 0
    assert store.count_records() == 0
    assert store.check_integrity().healthy
    assert list(ctx.list_runs()) == []
    ctx.close()
    assert not root.exists()
