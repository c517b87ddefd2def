"""Frames with duplicate column names are profiled, not rejected (the job must not break)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from contexta import Contexta
from contexta.errors import ValidationError
from contexta.quality.profiling import duplicate_column_renames, profile_frame


def _frame() -> pd.DataFrame:
    return pd.DataFrame([[1, 2.5, "x", 7], [3, None, "y", 8]], columns=["a", "a", "b", "a"])


def test_pandas_duplicates_get_distinct_names_and_their_own_statistics() -> None:
    frame = _frame()
    profile = profile_frame(frame)
    assert profile.column_names == ("a", "a (2)", "b", "a (3)")
    first, second, third = profile.column("a"), profile.column("a (2)"), profile.column("a (3)")
    assert first is not None
    assert second is not None
    assert third is not None
    assert (first.mean, first.null_count) == (2.0, 0)
    assert (second.mean, second.null_count) == (2.5, 1)
    assert third.max == 8
    assert list(profile.schema) == list(profile.column_names)
    assert list(frame.columns) == ["a", "a", "b", "a"]  # the caller's frame is untouched
    assert duplicate_column_renames(frame) == {"a (2)": "a", "a (3)": "a"}


def test_generated_names_skip_names_already_in_the_frame() -> None:
    frame = pd.DataFrame([[1, 2, 3]], columns=["a", "a (2)", "a"])
    assert profile_frame(frame).column_names == ("a", "a (2)", "a (3)")


def test_arrow_duplicates_are_profiled_too() -> None:
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array(["u", None])], names=["k", "k"])
    profile = profile_frame(table)
    assert profile.column_names == ("k", "k (2)")
    second = profile.column("k (2)")
    assert second is not None
    assert second.null_count == 1


def test_unique_frames_are_unchanged() -> None:
    frame = pd.DataFrame({"a": [1], "b": [2]})
    assert duplicate_column_renames(frame) == {}
    assert profile_frame(frame).column_names == ("a", "b")


def test_columns_selection_reaches_the_renamed_column() -> None:
    profile = profile_frame(_frame(), columns=["a (2)"])
    assert profile.column_names == ("a (2)",)


def test_bad_arguments_still_raise() -> None:
    with pytest.raises(ValidationError):
        profile_frame(_frame(), columns=["missing"])


def test_stage_profile_records_the_renaming_and_the_run_completes(tmp_path: Path) -> None:
    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        for night in ("n1", "n2"):
            with ctx.run(night) as run, run.stage("load") as stage:
                profile = stage.profile(_frame(), name="orders")
            assert profile.column_names == ("a", "a (2)", "b", "a (3)")
        snapshot = ctx.get_run_snapshot(run.ref)
        assert ctx.list_runs("test")[-1].status == "completed"
    keys = {record.key for record in snapshot.records if record.record_type == "metric"}
    assert {"orders.a.mean", "orders.a-2.mean", "orders.a-3.mean"} <= keys
    (event,) = [r for r in snapshot.records if r.record_type == "event"]
    attributes = event.payload["attributes"]
    assert list(attributes["column_order"]) == ["a", "a (2)", "b", "a (3)"]
    assert dict(attributes["renamed_columns"]) == {"a (2)": "a", "a (3)": "a"}
    assert "a (2)" in event.message
    assert not [r for r in snapshot.records if r.record_type == "degraded"]
