"""Baselines read from a real workspace: broken nights stay out of them, runs are read
once per process, and a failure while checking never breaks the host job."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.quality.weather_frames import features_day, weather_day

from contexta import Contexta
from contexta.errors import CaptureError
from contexta.quality import FrameProfile

DQ_CODES = {"schema_change", "null_rate_spike", "zero_collapse", "row_count_drop"}


@pytest.fixture
def ctx(tmp_path: Path) -> Any:
    with Contexta(profile="test", workspace=tmp_path / "ws") as contexta:
        yield contexta


class Night:
    """One captured night: the run ref and the profiles of its three datasets."""

    def __init__(self, run_ref: str, profiles: dict[str, FrameProfile]) -> None:
        self.run_ref = run_ref
        self.profiles = profiles

    def findings(self) -> set[tuple[str, str, str | None]]:
        return {(name, f.issue_key, f.column) for name, profile in self.profiles.items()
                for f in profile.findings}


def _night(ctx: Any, rng: np.random.Generator, *, broken: bool = False) -> Night:
    """The demo's shape: the vendor renames ``wind_speed`` on a broken night, the join
    yields NULLs and the feature step fills them with 0."""
    profiles = {}
    with ctx.run("nightly") as run:
        with run.stage("extract") as stage:
            weather = weather_day(rng, wind_name="wind_speed_mph" if broken else "wind_speed")
            profiles["weather"] = stage.profile(weather, name="weather")
        with run.stage("features") as stage:
            features = features_day(rng, wind_missing=broken)
            joined = features.copy()
            if broken:
                joined["wind_speed"] = np.nan
            profiles["joined"] = stage.profile(joined, name="joined")
            profiles["features"] = stage.profile(features, name="features")
        run_ref = str(run.ref)
    return Night(run_ref, profiles)


def _dq_issues(ctx: Any, run_ref: str) -> list[tuple[str, Any]]:
    return [(i.code, i.details.get("dataset")) for i in ctx.diagnose_run(run_ref).issues
            if i.code in DQ_CODES]


BREAK = {
    ("weather", "dq.schema_change", None),
    ("joined", "dq.null_rate_spike", "wind_speed"),
    ("features", "dq.zero_collapse", "wind_speed"),
}


def test_the_night_after_a_break_is_compared_with_the_last_healthy_night(ctx: Any) -> None:
    rng = np.random.default_rng(20130105)
    healthy = [_night(ctx, rng) for _ in range(4)]
    broken = _night(ctx, rng, broken=True)
    after = _night(ctx, rng)
    assert broken.findings() == BREAK
    schema = next(f for f in broken.profiles["weather"].findings)
    assert schema.attributes["baseline_run_id"] == healthy[-1].run_ref
    # no "schema changed back", from the layer or from diagnostics' own schema rule
    assert after.findings() == set()
    assert _dq_issues(ctx, after.run_ref) == []


def test_the_broken_night_is_left_out_of_every_baseline(ctx: Any) -> None:
    rng = np.random.default_rng(20130109)
    healthy = [_night(ctx, rng) for _ in range(4)]
    broken = _night(ctx, rng, broken=True)
    later = [_night(ctx, rng) for _ in range(2)]
    second = _night(ctx, rng, broken=True)
    # a null rate of 1.0 on the first broken night must not hide the second break
    assert second.findings() == BREAK
    spike = next(f for f in second.profiles["joined"].findings)
    assert spike.attributes["baseline_max"] < 0.5
    refs = spike.attributes["baseline_run_refs"]
    assert broken.run_ref not in refs
    assert refs == [n.run_ref for n in reversed(healthy + later)]
    assert sorted(code for code, _ in _dq_issues(ctx, second.run_ref)) == sorted(
        ["schema_change", "null_rate_spike", "zero_collapse"])
    assert all(_dq_issues(ctx, n.run_ref) == [] for n in later)


def test_schema_events_say_the_layer_checked_them(ctx: Any) -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0]})
    with ctx.run("r") as run, run.stage("s") as stage:
        stage.profile(frame, name="checked")
        stage.profile(frame, name="unchecked", checks=False)
        run_ref = run.ref
    events = {r.payload["attributes"]["dataset"]: r.payload["attributes"]
              for r in ctx.get_run_snapshot(run_ref).records
              if r.record_type == "event" and r.key.endswith(".schema")}
    assert events["checked"]["checked_by"] == "contexta.quality"
    assert "checked_by" not in events["unchecked"]
    assert events["checked"]["columns"] == {"a": "Float64"}


def _cache_reads(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int]]:
    """``(from cache, read)`` of each history lookup logged since the last clear."""
    return [tuple(r.args) for r in caplog.records  # type: ignore[misc]
            if r.name == "contexta.quality.run_history" and r.msg.startswith("dq history")]


def test_earlier_runs_are_read_once_per_process(ctx: Any,
                                                caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(1)
    for _ in range(3):
        _night(ctx, rng)
    caplog.set_level(logging.DEBUG, logger="contexta.quality.run_history")
    caplog.clear()
    _night(ctx, rng)
    # three profiles: the first reads last night's run, the others read nothing
    assert _cache_reads(caplog) == [(2, 1), (3, 0), (3, 0)]


def _degraded(run_ref: str, stage_ref: str, dataset: str) -> Any:
    from contexta.contract import DegradedPayload, DegradedRecord, RecordEnvelope

    stamp = "2030-01-01T00:00:00Z"
    envelope = RecordEnvelope(
        record_ref=f"record:{run_ref[4:]}.late-finding", record_type="degraded",
        recorded_at=stamp, observed_at=stamp, producer_ref="tests", run_ref=run_ref,
        stage_execution_ref=stage_ref, batch_execution_ref=None, completeness_marker="partial",
        degradation_marker="capture_gap")
    payload = DegradedPayload(issue_key="dq.null_rate_spike", category="verification",
                              severity="warning", summary="found later",
                              attributes={"dataset": dataset})
    return DegradedRecord(envelope=envelope, payload=payload)


def test_a_cached_run_that_gains_records_is_read_again(ctx: Any) -> None:
    rng = np.random.default_rng(2)
    nights = [_night(ctx, rng) for _ in range(3)]
    latest = nights[-1].run_ref
    # a finding about "joined" added to the latest run after it was cached
    ctx.record_store.append(_degraded(latest, f"stage:{latest[4:]}.features", "joined"))
    tonight = _night(ctx, rng, broken=True)
    spike = next(f for f in tonight.profiles["joined"].findings)
    assert spike.attributes["baseline_run_refs"] == [nights[1].run_ref, nights[0].run_ref]
    collapse = next(f for f in tonight.profiles["features"].findings)
    assert collapse.attributes["baseline_run_refs"][0] == latest  # other datasets keep it


def _damage_stored_tags(ctx: Any, tmp_path: Path) -> None:
    """Store damage: the stored tags of earlier profile metrics are a list, not a mapping."""
    ctx.record_store.count_records()  # the spool is indexed into the database first
    (database,) = (tmp_path / "ws").glob("**/*.sqlite3")
    with sqlite3.connect(database) as connection:
        changed = connection.execute(
            "UPDATE records SET body = json_set(body, '$.payload.tags', json('[\"x\"]')) "
            "WHERE record_type = 'metric' AND key = 'weather.row_count'").rowcount
    connection.close()
    assert changed >= 1


def test_a_failing_check_never_breaks_the_job(ctx: Any, tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(3)
    _night(ctx, rng)
    _damage_stored_tags(ctx, tmp_path)
    caplog.set_level(logging.WARNING, logger="contexta")
    with ctx.run("nightly", strict=False) as run, run.stage("extract") as stage:
        profile = stage.profile(weather_day(rng), name="weather")
        run_ref = run.ref
    assert profile.row_count == 72
    assert profile.findings == ()
    warnings = [r for r in caplog.records
                if r.name.startswith("contexta") and r.levelno == logging.WARNING]
    assert any("weather" in r.getMessage() for r in warnings)
    records = ctx.get_run_snapshot(run_ref).records
    (marker,) = [r for r in records if r.record_type == "degraded"]
    assert marker.key == "dq.profile_failed"
    assert marker.payload["category"] == "capture"
    assert marker.payload["severity"] == "warning"
    assert marker.payload["attributes"]["dataset"] == "weather"
    assert "weather.row_count" in {r.key for r in records if r.record_type == "metric"}
    schema = next(r for r in records if r.record_type == "event" and r.key == "weather.schema")
    assert "checked_by" not in schema.payload["attributes"]
    assert "degraded_record" in {i.code for i in ctx.diagnose_run(run_ref).issues}


def test_a_failing_check_in_a_strict_scope_raises_a_contexta_error(ctx: Any,
                                                                   tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    _night(ctx, rng)
    _damage_stored_tags(ctx, tmp_path)
    with ctx.run("nightly", strict=True) as run, run.stage("extract") as stage:
        with pytest.raises(CaptureError) as info:
            stage.profile(weather_day(rng), name="weather")
    assert info.value.code == "quality_profile_failed"
    assert isinstance(info.value.__cause__, AttributeError)
