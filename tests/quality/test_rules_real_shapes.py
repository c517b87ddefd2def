"""History rules on frames shaped like the real-data demo's weather and features.

Real weather has quiet days: visibility at its 10-mile cap all day, 23 % calm hours,
no rain. Those are data, not broken feeds; a column filled with zeros or a default
still is.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.quality.weather_frames import features_day, weather_day

from contexta.quality import Baseline, FrameProfile, QualityThresholds, evaluate_history
from contexta.quality import profile_frame as profile


def _history(frames: list[object]) -> list[Baseline]:
    """Baselines newest first from frames given oldest first."""
    return [Baseline.from_profile(profile(frame), f"run:p.night-{night}")
            for night, frame in reversed(list(enumerate(frames, start=1)))]


def _keys(profile_: FrameProfile, history: list[Baseline],
          thresholds: QualityThresholds | None = None) -> set[tuple[str, str | None]]:
    findings = evaluate_history(profile_, history, thresholds, dataset="weather")
    return {(f.issue_key, f.column) for f in findings}


def _visib_constant(rng: np.random.Generator, value: float) -> object:
    frame = weather_day(rng)
    frame["visib"] = value
    return frame


def test_clear_day_after_one_varied_day_is_not_a_collapse() -> None:
    rng = np.random.default_rng(1)
    history = _history([weather_day(rng)])
    clear = profile(weather_day(rng, clear_all_day=True))
    assert clear.column("visib").is_constant  # type: ignore[union-attr]
    assert _keys(clear, history) == set()


@pytest.mark.parametrize("baseline_runs", [1, 2])
def test_became_constant_needs_three_varied_baseline_runs(baseline_runs: int) -> None:
    rng = np.random.default_rng(2)
    history = _history([weather_day(rng) for _ in range(baseline_runs)])
    # 7.0 is no bound of the baseline: a filled default, not a capped sensor
    stuck = profile(_visib_constant(rng, 7.0))
    assert _keys(stuck, history) == set()
    lenient = QualityThresholds(constant_min_baseline_runs=baseline_runs)
    assert _keys(stuck, history, lenient) == {("dq.zero_collapse", "visib")}


def test_became_constant_after_three_varied_runs_is_flagged() -> None:
    rng = np.random.default_rng(3)
    history = _history([weather_day(rng) for _ in range(3)])
    stuck = profile(_visib_constant(rng, 7.0))
    (finding,) = evaluate_history(stuck, history, dataset="weather")
    assert (finding.issue_key, finding.column) == ("dq.zero_collapse", "visib")
    assert finding.attributes["rule"] == "became_constant"
    assert finding.attributes["baseline_run_count"] == 3


def test_became_constant_needs_variation_in_every_baseline_run() -> None:
    rng = np.random.default_rng(4)
    frames = [weather_day(rng) for _ in range(5)]
    frames[2] = weather_day(rng, clear_all_day=True)
    stuck = profile(_visib_constant(rng, 7.0))
    assert _keys(stuck, _history(frames)) == set()


def test_a_value_at_the_bound_of_every_baseline_run_is_not_a_collapse() -> None:
    rng = np.random.default_rng(5)
    history = _history([weather_day(rng) for _ in range(7)])
    assert all(b.stat("visib", "max") == 10.0 for b in history)
    clear = profile(weather_day(rng, clear_all_day=True))
    assert _keys(clear, history) == set()


def test_a_clear_day_after_a_foggy_day_is_not_a_collapse() -> None:
    # 2013-10-06: fog all day, visibility never reached its 10-mile cap; 2013-10-08 was
    # clear all day. The cap is still the usual value (six of seven baseline runs).
    rng = np.random.default_rng(10)
    frames = [weather_day(rng) for _ in range(7)]
    frames[4]["visib"] = rng.choice([0.25, 0.5, 1.0, 2.0, 5.0, 9.0], len(frames[4]))
    history = _history(frames)
    assert sum(b.stat("visib", "max") == 10.0 for b in history) == 6
    clear = profile(weather_day(rng, clear_all_day=True))
    assert _keys(clear, history) == set()


def test_a_value_at_the_bound_of_a_minority_of_runs_is_still_judged() -> None:
    rng = np.random.default_rng(11)
    frames = [weather_day(rng) for _ in range(5)]
    for frame in frames[:3]:  # foggy most days: 10.0 was the top of only two runs
        frame["visib"] = rng.choice([0.5, 1.0, 2.0, 5.0, 9.0], len(frame))
    stuck = profile(_visib_constant(rng, 10.0))
    assert _keys(stuck, _history(frames)) == {("dq.zero_collapse", "visib")}


def _engines(rng: np.random.Generator, rows: int = 900) -> object:
    import pandas as pd

    return pd.DataFrame({"engines": rng.choice([1.0, 2.0, 3.0, 4.0], rows,
                                               p=[0.004, 0.99, 0.003, 0.003])})


def test_a_few_valued_column_at_its_usual_value_is_not_a_collapse() -> None:
    # 2013-06-25: every plane of the day had two engines, as 99 % do on other days.
    rng = np.random.default_rng(12)
    history = _history([_engines(rng) for _ in range(7)])
    assert all(b.stat("engines", "distinct_count") > 1 for b in history)
    import pandas as pd

    two = profile(pd.DataFrame({"engines": [2.0] * 900}))
    assert _keys(two, history) == set()
    four = profile(pd.DataFrame({"engines": [4.0] * 900}))  # a default, not the usual value
    assert _keys(four, history) == {("dq.zero_collapse", "engines")}


def test_a_continuous_column_filled_with_its_mean_is_a_collapse() -> None:
    rng = np.random.default_rng(13)
    history = _history([weather_day(rng) for _ in range(7)])
    mean = float(np.mean([b.stat("humid", "mean") for b in history]))
    filled = weather_day(rng)
    filled["humid"] = round(mean, 2)
    assert _keys(profile(filled), history) == {("dq.zero_collapse", "humid")}


def test_calm_winds_are_not_a_zero_collapse() -> None:
    rng = np.random.default_rng(6)
    history = _history([weather_day(rng, calm_share=share)
                        for share in (0.0, 0.0, 0.0125, 0.0, 0.014, 0.0)])
    calm = profile(weather_day(rng, calm_share=0.2262))
    assert calm.column("wind_speed").zero_rate == pytest.approx(0.2222, abs=0.01)  # type: ignore[union-attr]
    assert _keys(calm, history) == set()


def test_a_dry_day_after_a_showery_week_is_not_a_collapse() -> None:
    # the share of rainy hours of 2013-01-11 .. 2013-01-16 at the three airports
    rng = np.random.default_rng(7)
    history = _history([weather_day(rng, rain_share=share)
                        for share in (0.32, 0.14, 0.014, 0.097, 0.19, 0.5)])
    dry = profile(weather_day(rng))
    assert dry.column("precip").zero_rate == 1.0  # type: ignore[union-attr]
    assert _keys(dry, history) == set()


def test_nearly_all_zeros_is_a_collapse_and_all_zeros_an_error() -> None:
    rng = np.random.default_rng(8)
    history = [Baseline.from_profile(profile(features_day(rng)), f"run:p.n{i}")
               for i in range(6)]
    nearly = profile(features_day(rng, calm_share=0.97))
    (finding,) = evaluate_history(nearly, history, dataset="features")
    assert (finding.issue_key, finding.column, finding.severity) == (
        "dq.zero_collapse", "wind_speed", "warning")
    assert finding.attributes["zero_share"] >= 0.95
    filled = profile(features_day(rng, wind_missing=True))
    (finding,) = evaluate_history(filled, history, dataset="features")
    assert (finding.column, finding.severity, finding.attributes["all_zero"]) == (
        "wind_speed", "error", True)
    assert finding.attributes["value"] == 1.0


def test_zero_share_counts_non_null_values_only() -> None:
    rng = np.random.default_rng(9)
    history = [Baseline.from_profile(profile(features_day(rng)), f"run:p.n{i}")
               for i in range(3)]
    frame = features_day(rng, calm_share=0.0)
    frame.loc[frame.index[: len(frame) // 2], "wind_speed"] = np.nan
    frame.loc[frame.index[len(frame) // 2:], "wind_speed"] = 0.0
    half_null = profile(frame)
    findings = evaluate_history(half_null, history, dataset="features")
    collapse = next(f for f in findings if f.issue_key == "dq.zero_collapse")
    assert collapse.attributes["zero_share"] == 1.0
    assert collapse.attributes["value"] == pytest.approx(0.5, abs=0.01)


def test_baseline_that_was_mostly_zeros_is_not_collapsing() -> None:
    rng = np.random.default_rng(10)
    history = [Baseline.from_profile(profile(features_day(rng, calm_share=0.85)),
                                     f"run:p.n{i}") for i in range(5)]
    filled = profile(features_day(rng, wind_missing=True))
    assert evaluate_history(filled, history, dataset="features") == ()
    strict = QualityThresholds(zero_collapse_baseline_max=0.9, zero_rate_min_increase=0.05)
    assert {f.column for f in evaluate_history(filled, history, strict, dataset="features")} == {
        "wind_speed"}
