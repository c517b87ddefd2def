"""A dataset that arrives empty after nights with rows is §7's ``zero_collapse`` of
``row_count``, the same code whether the profile was checked at capture or at read time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contexta import Contexta


@pytest.mark.parametrize("checks", [True, False], ids=["capture-time", "deferred"])
def test_an_empty_night_is_a_row_count_zero_collapse(tmp_path: Path, checks: bool) -> None:
    rng = np.random.default_rng(3)
    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        refs = []
        for night in range(1, 6):
            frame = pd.DataFrame({"amount": rng.normal(100, 20, 400)})
            if night == 5:
                frame = frame.iloc[0:0]
            with ctx.run("orders", run_id=f"night-{night}") as run, run.stage("load") as stage:
                stage.profile(frame, name="orders", checks=checks)
            refs.append(str(run.ref))
        for ref in refs[:-1]:
            assert [i.code for i in ctx.diagnose_run(ref).issues] == []
        (issue,) = ctx.diagnose_run(refs[-1]).issues
    assert (issue.code, issue.severity) == ("zero_collapse", "error")
    assert issue.details["dataset"] == "orders"
    assert issue.details["metric_key"] == "orders.row_count"
    assert issue.details["value"] == 0
    assert issue.details["baseline_min"] > 0
