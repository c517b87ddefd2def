"""Column names the stored text rules refuse (contract §3.2) do not break a profile.

A lone surrogate cannot be stored in attributes or tags, so such a column is profiled
under its name with U+FFFD in place of each surrogate (kept distinct from the other
columns). NUL and other control characters are allowed in JSON text and stay exact
in the schema event (§7.1). The run completes and a later run sees no schema change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from contexta import Contexta
from contexta.quality.profiling import profile_frame

SURROGATE = "x\ud800"


def _frame(*names: str) -> pd.DataFrame:
    return pd.DataFrame([[1.0] * len(names), [2.0] * len(names)],
                        columns=pd.Index(list(names), dtype=object))


def _profile_twice(root: Path, frame: pd.DataFrame, *,
                   checks: bool) -> tuple[Contexta, list[tuple[str, Any]]]:
    ctx = Contexta(profile="test", workspace=root / "ws")
    snapshots = []
    for night in ("n1", "n2"):
        with ctx.run(night) as run, run.stage("load") as stage:
            stage.profile(frame, name="d", checks=checks)
        snapshots.append((run.ref, ctx.get_run_snapshot(run.ref)))
    return ctx, snapshots


@pytest.mark.parametrize("checks", [True, False])
def test_lone_surrogate_column_is_recorded_and_the_run_completes(tmp_path, checks) -> None:
    ctx, snapshots = _profile_twice(tmp_path, _frame(SURROGATE, "y"), checks=checks)
    with ctx:
        assert [run.status for run in ctx.list_runs("test")] == ["completed", "completed"]
        report = ctx.diagnose_run(snapshots[-1][0])
    assert not [issue for issue in report.issues if issue.code == "schema_change"]
    records = snapshots[-1][1].records
    (event,) = [r for r in records if r.record_type == "event"]
    assert list(event.payload["attributes"]["column_order"]) == ["x\ufffd", "y"]
    tags = {r.key: r.payload["tags"] for r in records if r.record_type == "metric"}
    assert tags["d.x.mean"]["dq.column"] == "x\ufffd"
    assert not [r for r in records if r.record_type == "degraded"]


def test_control_characters_stay_exact_in_the_schema(tmp_path) -> None:
    ctx, snapshots = _profile_twice(tmp_path, _frame("a\x00b", "c\x01"), checks=True)
    ctx.close()
    (event,) = [r for r in snapshots[-1][1].records if r.record_type == "event"]
    assert list(event.payload["attributes"]["column_order"]) == ["a\x00b", "c\x01"]


def test_replaced_names_stay_distinct() -> None:
    profile = profile_frame(_frame("x\ud800", "x\ufffd", "x\udfff"))
    assert profile.column_names == ("x\ufffd (2)", "x\ufffd", "x\ufffd (3)")
    assert len(set(profile.schema)) == 3
