"""A vendor change that lasts is reported once, on the night it happened; a one-night break
that reverts is reported on its night only. Both at capture time and when checks are
deferred to read time, through a real workspace and ``diagnose_run``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from contexta import Contexta
from contexta.quality import Baseline, evaluate_history, profile_frame

NIGHTS = 8


def _feed(rng: np.random.Generator, night: int, *, renamed_from: int | None,
          back_on: int | None = None) -> pd.DataFrame:
    renamed = renamed_from is not None and night >= renamed_from and (
        back_on is None or night < back_on)
    return pd.DataFrame({
        "origin": rng.choice(["EWR", "JFK", "LGA"], 24),
        "wind_speed_mph" if renamed else "wind_speed": rng.gamma(4.0, 3.0, 24),
        "visib": rng.uniform(5.0, 10.0, 24),
    })


def _schema_nights(ctx: Any, *, renamed_from: int | None, back_on: int | None = None,
                   checks: bool) -> list[int]:
    rng = np.random.default_rng(7)
    refs = []
    for night in range(1, NIGHTS + 1):
        with ctx.run("vendor", run_id=f"night-{night}") as run, run.stage("extract") as stage:
            stage.profile(_feed(rng, night, renamed_from=renamed_from, back_on=back_on),
                          name="weather", checks=checks)
            refs.append(str(run.ref))
    return [night for night, ref in enumerate(refs, 1)
            if any(i.code == "schema_change" for i in ctx.diagnose_run(ref).issues)]


@pytest.mark.parametrize("checks", [True, False], ids=["capture-time", "deferred"])
def test_a_lasting_rename_is_flagged_on_its_night_only(tmp_path: Path, checks: bool) -> None:
    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        assert _schema_nights(ctx, renamed_from=4, checks=checks) == [4]


@pytest.mark.parametrize("checks", [True, False], ids=["capture-time", "deferred"])
def test_a_one_night_rename_that_reverts_is_flagged_once(tmp_path: Path, checks: bool) -> None:
    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        assert _schema_nights(ctx, renamed_from=4, back_on=5, checks=checks) == [4]


def test_a_second_change_after_a_lasting_one_is_reported_against_the_newer_schema() -> None:
    old = profile_frame(pd.DataFrame({"a": [1.0, 2.0], "wind_speed": [3.0, 4.0]}))
    renamed = profile_frame(pd.DataFrame({"a": [1.0, 2.0], "wind_speed_mph": [3.0, 4.0]}))
    extended = profile_frame(pd.DataFrame({"a": [1.0, 2.0], "wind_speed_mph": [3.0, 4.0],
                                           "gust": [5.0, 6.0]}))
    healthy = tuple(Baseline.from_profile(old, f"run:p.h{i}") for i in range(3))
    flagged = Baseline.from_profile(renamed, "run:p.flagged")

    (finding,) = evaluate_history(extended, healthy, dataset="weather", latest=flagged)
    assert finding.attributes["baseline_run_id"] == "run:p.flagged"
    assert finding.attributes["added"] == ["gust"]
    assert finding.attributes["removed"] == []
    assert evaluate_history(renamed, healthy, dataset="weather", latest=flagged) == ()
    assert evaluate_history(old, healthy, dataset="weather", latest=flagged) == ()
    (first,) = evaluate_history(renamed, healthy, dataset="weather")
    assert first.attributes["removed"] == ["wind_speed"]
