"""Nights recorded unchecked (``checks=False``) before nights checked at capture time.

A night broken in an unchecked run is flagged only at read time; capture-time checks
must leave it out of the baseline too, or its all-null column raises the baseline so far
that the next break goes unseen. (``test_deferred_checks`` covers the opposite order.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contexta import Contexta
from contexta.quality.deferred import DEFERRED_CHECKS

DQ_CODES = {"schema_change", "null_rate_spike", "zero_collapse", "degraded_record"}


def _frame(night: int, broken: bool) -> pd.DataFrame:
    frame = pd.DataFrame({"amount": np.random.default_rng(night).normal(100, 20, 500),
                          "region": ["east", "west"] * 250})
    if broken:
        frame["amount"] = np.nan
    return frame


def _night(ctx: Any, night: int, *, checks: bool, broken: bool) -> tuple[str, Any, Any]:
    """One night: a stage-level profile and a batch-level one; returns both profiles."""
    frame = _frame(night, broken)
    with ctx.run("nightly", run_id=f"night-{night:03d}") as run, run.stage("load") as stage:
        whole = stage.profile(frame, name="feed", checks=checks)
        with stage.batch("east") as batch:
            part = batch.profile(frame[frame["region"] == "east"], name="feed", checks=checks)
        return str(run.ref), whole, part


def _issues(ctx: Any, run_ref: str) -> set[tuple[Any, ...]]:
    return {(i.code, i.details.get("dataset"), i.details.get("column"), i.details.get("source"))
            for i in ctx.diagnose_run(run_ref).issues if i.code in DQ_CODES}


def test_a_break_after_a_break_flagged_only_at_read_time_is_flagged(tmp_path: Path) -> None:
    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        nights = {night: _night(ctx, night, checks=night == 7, broken=night in (3, 7))
                  for night in range(1, 8)}
        DEFERRED_CHECKS.clear()  # diagnostics judge afresh, not from capture's memo
        for night, (ref, whole, part) in nights.items():
            issues = _issues(ctx, ref)
            if night == 7:
                assert {f.issue_key for f in whole.findings} == {"dq.null_rate_spike"}
                assert {f.issue_key for f in part.findings} == {"dq.null_rate_spike"}
                assert ("null_rate_spike", "feed", "amount", "finding") in issues
            elif night == 3:
                assert ("null_rate_spike", "feed", "amount", "deferred_check") in issues
            else:
                assert issues == set(), night
            if night < 7:
                assert (whole.findings, part.findings) == ((), ()), night


def test_switching_modes_reports_what_one_mode_reports(tmp_path: Path) -> None:
    breaks = (3, 7, 10, 13)
    checked_nights = {4, 5, 7, 8, 12, 13}  # unchecked runs of one to three nights between
    with Contexta(profile="test", workspace=tmp_path / "checked") as checked, \
            Contexta(profile="test", workspace=tmp_path / "mixed") as mixed:
        refs = []
        for night in range(1, 15):
            ref, *one = _night(checked, night, checks=True, broken=night in breaks)
            refs.append(ref)
            same, *other = _night(mixed, night, checks=night in checked_nights,
                                  broken=night in breaks)
            assert same == ref
            if night in checked_nights:
                assert [p.findings for p in other] == [p.findings for p in one], night
            assert bool(one[0].findings) == (night in breaks), night
        DEFERRED_CHECKS.clear()
        for night, ref in enumerate(refs, start=1):
            expected = {key[:3] for key in _issues(checked, ref)}
            assert {key[:3] for key in _issues(mixed, ref)} == expected, night
            assert bool(expected) == (night in breaks), night
