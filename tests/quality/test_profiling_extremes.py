"""Valid data at the edges of the number types is profiled without errors or wrong
statistics: unsigned 64-bit values past 2**63 in Arrow, and finite floats whose sum
overflows float64 (a mean of inf would flag ``non_finite_metric`` on finite data)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contexta import Contexta
from contexta.quality import profile_frame

pa = pytest.importorskip("pyarrow")


def test_arrow_uint64_past_int64_is_profiled() -> None:
    table = pa.table({"u": pa.array([2**63, 1, 0, None], pa.uint64())})
    (column,) = profile_frame(table).columns
    assert (column.min, column.max) == (0, 2**63)
    assert column.zero_count == 1
    assert column.null_count == 1
    assert column.mean == pytest.approx((2**63 + 1) / 3)


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"x": np.r_[np.full(25, -1e308), np.full(25, 1e308)]}),
    pa.table({"x": pa.array(np.r_[np.full(25, -1e308), np.full(25, 1e308)])}),
], ids=["pandas", "arrow"])
def test_an_overflowing_sum_leaves_the_mean_out_rather_than_inf(frame: object) -> None:
    (column,) = profile_frame(frame).columns
    assert (column.min, column.max) == (-1e308, 1e308)
    assert column.mean is None
    assert column.std is None


def test_a_constant_column_near_the_float_limit_has_its_exact_moments() -> None:
    (column,) = profile_frame(pd.DataFrame({"x": np.full(50, 1e308)})).columns
    assert (column.mean, column.std) == (1e308, 0.0)


def test_real_infinities_are_still_reported(tmp_path: Path) -> None:
    (column,) = profile_frame(pd.DataFrame({"x": [1.0, math.inf]})).columns
    assert column.mean == math.inf


def test_such_frames_leave_a_completed_run_with_no_issue(tmp_path: Path) -> None:
    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        with ctx.run("edges") as run, run.stage("load") as stage:
            stage.profile(pa.table({"u": pa.array([2**64 - 1, 1], pa.uint64())}), name="ids")
            stage.profile(pd.DataFrame({"big": np.full(50, 1e308)}), name="big")
        assert ctx.metadata_store.runs.get_run(run.ref).status == "completed"
        assert [i.code for i in ctx.diagnose_run(run.ref).issues] == []
