"""Deferred checks: profiles recorded with ``checks=False`` are judged when diagnostics read
them, with the layer's own rules, settings and baseline selection, so a workspace recorded
without capture-time checks reports what one recorded with them does."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.quality.weather_frames import features_day, weather_day

from contexta import Contexta
from contexta.quality.deferred import DEFERRED_CHECKS, DeferredChecks
from contexta.quality.recording import metric_items, schema_event
from contexta.quality.run_history import HistoryCache, _read_tagged, read_runs

NIGHTS = 12
BREAKS = (5, 10)  # 1-based nights where the vendor renames wind_speed
SWITCH = 8  # the mixed workspace defers its checks from this night on
DQ_CODES = {"schema_change", "null_rate_spike", "zero_collapse", "degraded_record"}
BREAK_ISSUES = {
    ("schema_change", "error", "weather", None),
    ("null_rate_spike", "error", "joined", "wind_speed"),
    ("zero_collapse", "error", "features", "wind_speed"),
}


def _night(ctx: Any, night: int, rng: np.random.Generator, *, checks: bool,
           broken: bool) -> str:
    """The demo's shape: the vendor renames ``wind_speed``, the join yields NULLs and the
    feature step fills them with 0; plus a batch-level profile."""
    with ctx.run("nightly", run_id=f"night-{night:03d}") as run:
        with run.stage("extract") as stage:
            weather = weather_day(rng, wind_name="wind_speed_mph" if broken else "wind_speed")
            stage.profile(weather, name="weather", checks=checks)
        with run.stage("features") as stage:
            features = features_day(rng, wind_missing=broken)
            joined = features.copy()
            if broken:
                joined["wind_speed"] = np.nan
            stage.profile(joined, name="joined", checks=checks)
            stage.profile(features, name="features", checks=checks)
            with stage.batch("JFK") as batch:
                batch.profile(features[features["origin"] == "JFK"], name="features",
                              checks=checks)
        return str(run.ref)


def _record(ctx: Any, *, checks: bool | None) -> list[str]:
    """``checks=None``: checked until night 7, deferred after (a project switching over:
    deferred verdicts build on stored findings)."""
    rng = np.random.default_rng(20130105)
    return [_night(ctx, night, rng, checks=night < SWITCH if checks is None else checks,
                   broken=night in BREAKS)
            for night in range(1, NIGHTS + 1)]


def _plain(value: Any) -> Any:
    """JSON-shaped copy: mappings as dicts, sequences as lists (frozen vs stored forms)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _issues(ctx: Any, run_ref: str) -> list[Any]:
    return [i for i in ctx.diagnose_run(run_ref).issues if i.code in DQ_CODES]


def _key(issue: Any) -> tuple[Any, ...]:
    return (issue.code, issue.severity, issue.details.get("dataset"),
            issue.details.get("column"))


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("deferred")
    with Contexta(profile="test", workspace=root / "checked") as checked, \
            Contexta(profile="test", workspace=root / "deferred") as deferred, \
            Contexta(profile="test", workspace=root / "mixed") as mixed:
        refs = _record(checked, checks=True)
        assert _record(deferred, checks=False) == refs
        assert _record(mixed, checks=None) == refs
        yield checked, deferred, refs, mixed


def test_mixed_capture_and_read_time_checks_agree(workspaces: Any) -> None:
    checked, _, refs, mixed = workspaces
    for night, ref in enumerate(refs, start=1):
        stored, computed = _issues(checked, ref), _issues(mixed, ref)
        assert sorted(map(_key, computed)) == sorted(map(_key, stored)), night
        sources = {i.details["source"] for i in computed}
        assert sources <= ({"finding"} if night < SWITCH else {"deferred_check"}), night


def test_deferred_checks_report_what_capture_time_checks_record(workspaces: Any) -> None:
    checked, deferred, refs, _ = workspaces
    for night, ref in enumerate(refs, start=1):
        stored, computed = _issues(checked, ref), _issues(deferred, ref)
        assert sorted(map(_key, computed)) == sorted(map(_key, stored)), night
        expected = BREAK_ISSUES if night in BREAKS else set()
        assert set(map(_key, computed)) == expected, night  # the night after a break is clean
        stored_records = {r.record_id: r for r in checked.get_run_snapshot(ref).records}
        for mine, theirs in zip(computed, stored, strict=True):
            assert mine.summary == theirs.summary
            assert mine.details["source"] == "deferred_check"
            assert theirs.details["source"] == "finding"
            drop = {"record_id", "source", "evidence"}
            assert {k: _plain(v) for k, v in mine.details.items() if k not in drop} == \
                {k: _plain(v) for k, v in theirs.details.items() if k not in drop}
            # the evidence is what the stored degraded record holds
            record = stored_records[theirs.details["record_id"]]
            assert _plain(mine.details["evidence"]) == _plain(record.payload["attributes"])
    second = next(i for i in _issues(deferred, refs[BREAKS[1] - 1])
                  if i.code == "null_rate_spike")
    # the first break's NULLs stay out of the second break's baseline
    assert refs[BREAKS[0] - 1] not in second.details["evidence"]["baseline_run_refs"]
    assert second.details["baseline_max"] < 0.5


def test_deferred_schema_events_carry_their_settings_and_no_checked_by(workspaces: Any) -> None:
    _, deferred, refs, _ = workspaces
    events = [r for r in deferred.get_run_snapshot(refs[0]).records
              if r.record_type == "event" and r.key.endswith(".schema")]
    assert events
    for event in events:
        attributes = event.payload["attributes"]
        assert "checked_by" not in attributes
        assert attributes["deferred_check"]["history_runs"] == 7
        assert attributes["deferred_check"]["thresholds"]["null_rate_min_increase"] == 0.05
    assert not [r for r in deferred.get_run_snapshot(refs[BREAKS[0] - 1]).records
                if r.record_type == "degraded"]  # nothing is written at read time


def test_hot_history_read_equals_the_read_by_tags(workspaces: Any) -> None:
    refs = workspaces[2]
    for ctx in (workspaces[0], workspaces[1], workspaces[3]):
        fast, slow = read_runs(ctx.record_store, refs), _read_tagged(ctx.record_store, refs)
        for ref in refs:
            assert fast[ref].flagged == slow[ref].flagged
            assert {k: {b: _group(g) for b, g in v.items()} for k, v in fast[ref].groups.items()} \
                == {k: {b: _group(g) for b, g in v.items()} for k, v in slow[ref].groups.items()}


def _group(group: Any) -> tuple[Any, ...]:
    return (group.last_sequence, group.row_count, group.schema, group.stats, group.layer,
            group.checked, _plain(group.settings), group.fingerprint, group.schema_rows,
            group.int_stats)


def test_a_hand_written_statistic_makes_the_run_read_by_tags(tmp_path: Path) -> None:
    import pandas as pd

    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        with ctx.run("r") as run, run.stage("s") as stage:
            stage.profile(pd.DataFrame({"a": [1.0, 2.0]}), name="d", checks=False)
            stage.metric("d.b.null_rate", 0.5, tags={"dq.stat": "null_rate",
                                                      "dq.dataset": "d", "dq.column": "b"})
            ref = str(run.ref)
        fast, slow = read_runs(ctx.record_store, [ref]), _read_tagged(ctx.record_store, [ref])
        group = fast[ref].groups[("s", "d")][None]
        assert group.stats["b"] == {"null_rate": 0.5}
        assert _group(group) == _group(slow[ref].groups[("s", "d")][None])


def _scenario(ctx: Any, *, checks: bool, **options: Any) -> list[str]:
    import pandas as pd

    refs = []
    for night in range(6):
        share = 0.25 if night == 5 else 0.0  # a moderate null rise on the last night
        values = [None if i < 40 * share else float(i % 7 + 1) for i in range(40)]
        frame = pd.DataFrame({"x": values, "y": [float(i % 5) for i in range(40)]})
        with ctx.run("n", run_id=f"n{night}") as run, run.stage("s") as stage:
            stage.profile(frame, name="t", checks=checks, **options)
            refs.append(str(run.ref))
    return refs


@pytest.mark.parametrize("checks", [True, False])
def test_deferred_thresholds_and_history_runs_are_honoured(tmp_path: Path, checks: bool) -> None:
    with Contexta(profile="test", workspace=tmp_path / "default") as ctx:
        refs = _scenario(ctx, checks=checks)
        (spike,) = _issues(ctx, refs[-1])
        assert (spike.code, spike.details["column"]) == ("null_rate_spike", "x")
        assert spike.details["baseline_run_count"] == 5
    with Contexta(profile="test", workspace=tmp_path / "tolerant") as ctx:
        refs = _scenario(ctx, checks=checks, thresholds={"null_rate_min_increase": 0.5})
        assert _issues(ctx, refs[-1]) == []
    with Contexta(profile="test", workspace=tmp_path / "ignored") as ctx:
        refs = _scenario(ctx, checks=checks, thresholds={"columns": {"x": {"ignore": True}}})
        assert _issues(ctx, refs[-1]) == []
    with Contexta(profile="test", workspace=tmp_path / "short") as ctx:
        refs = _scenario(ctx, checks=checks, history_runs=2)
        (spike,) = _issues(ctx, refs[-1])
        assert spike.details["baseline_run_count"] == 2
        if not checks:
            assert list(spike.details["evidence"]["baseline_run_refs"]) == [refs[4], refs[3]]


def test_profiles_without_stored_settings_use_the_defaults(tmp_path: Path) -> None:
    """Profiles recorded before settings were stored (no ``checked_by``, no settings)."""
    import pandas as pd

    from contexta.quality import profile_frame

    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        refs = []
        for night in range(5):
            values = [float("nan")] * 40 if night == 4 else [float(i) for i in range(40)]
            profile = profile_frame(pd.DataFrame({"x": values}))
            with ctx.run("n", run_id=f"n{night}") as run, run.stage("s") as stage:
                stage.emit_metrics(metric_items(profile, "t"))
                key, message, attributes = schema_event(profile, "t")
                assert "deferred_check" not in attributes
                stage.event(key, message=message, attributes=attributes)
                refs.append(str(run.ref))
        (spike,) = _issues(ctx, refs[-1])
        assert (spike.code, spike.severity, spike.details["source"]) == (
            "null_rate_spike", "error", "deferred_check")


def test_a_failing_read_time_check_never_breaks_diagnose_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(DEFERRED_CHECKS, "profiles", broken)
    rng = np.random.default_rng(7)
    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        refs = [_night(ctx, night, rng, checks=False, broken=night == 3)
                for night in range(1, 5)]
        caplog.set_level(logging.WARNING, logger="contexta.interpret")
        issues = _issues(ctx, refs[-1])  # the night after the break
    assert any("read-time data-quality checks" in r.getMessage() for r in caplog.records)
    # the generic computed rules take over (and compare with the broken night)
    assert [(i.code, i.details["dataset"]) for i in issues] == [("schema_change", "weather")]


def test_unreadable_settings_fall_back_to_defaults(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    import pandas as pd

    from contexta.quality import profile_frame

    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        refs = []
        for night in range(3):
            values = [float("nan")] * 40 if night == 2 else [float(i) for i in range(40)]
            profile = profile_frame(pd.DataFrame({"x": values}))
            with ctx.run("n", run_id=f"n{night}") as run, run.stage("s") as stage:
                stage.emit_metrics(metric_items(profile, "t"))
                key, message, attributes = schema_event(
                    profile, "t", deferred={"history_runs": "seven"})
                stage.event(key, message=message, attributes=attributes)
                refs.append(str(run.ref))
        caplog.set_level(logging.WARNING, logger="contexta.quality")
        (spike,) = _issues(ctx, refs[-1])
    assert spike.code == "null_rate_spike"
    assert any("defaults used" in r.getMessage() for r in caplog.records)


def test_verdicts_are_remembered_and_new_writes_are_seen(tmp_path: Path) -> None:
    """A long project is judged oldest first, once per data version; a finding added
    later to an earlier run changes the baselines after it."""
    import pandas as pd

    checks = DeferredChecks(HistoryCache())
    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        refs = []
        for night in range(40):
            values = [float(i % 9 + night % 3) for i in range(40)]
            if night == 39:
                values = [float("nan")] * 40
            with ctx.run("n", run_id=f"n{night:02d}") as run, run.stage("s") as stage:
                stage.profile(pd.DataFrame({"x": values}), name="t", checks=False)
                refs.append(str(run.ref))
        stores = (ctx.metadata_store, ctx.record_store)
        (last,) = checks.profiles(*stores, refs[-1])
        (spike,) = last.findings
        assert spike.attributes["baseline_run_refs"] == refs[-2:-9:-1]
        assert checks.profiles(*stores, refs[-1]) == (last,)  # remembered
        memo = checks._stores[ctx.record_store]
        assert len(memo.verdicts) == 40
        # a late finding about "t" in night 37 leaves it out of night 39's baseline
        from contexta.contract import DegradedPayload, DegradedRecord, RecordEnvelope

        stamp = "2030-01-01T00:00:00Z"
        late = refs[-3]
        ctx.record_store.append(DegradedRecord(
            envelope=RecordEnvelope(
                record_ref=f"record:{late[4:]}.late", record_type="degraded",
                recorded_at=stamp, observed_at=stamp, producer_ref="tests", run_ref=late,
                stage_execution_ref=f"stage:{late[4:]}.s", batch_execution_ref=None,
                completeness_marker="complete", degradation_marker="partial_failure"),
            payload=DegradedPayload(issue_key="dq.null_rate_spike", category="verification",
                                    severity="warning", summary="late",
                                    attributes={"dataset": "t"})))
        (again,) = checks.profiles(*stores, refs[-1])
        assert late not in again.findings[0].attributes["baseline_run_refs"]
        assert len(again.findings[0].attributes["baseline_run_refs"]) == 7


def test_settings_round_trip_through_the_schema_event() -> None:
    from contexta.quality import QualityThresholds
    from contexta.quality.recording import check_settings, settings_record

    limits = QualityThresholds(null_rate_min_increase=0.2, noise_sigmas=2.0, min_rows=3,
                               columns={"api_key": {"ignore": True},
                                        "b": {"max_null_rate": 0.1}})
    record = settings_record(limits, 11)
    assert json.loads(json.dumps(record)) == record
    assert check_settings(record) == (limits, 11)
    assert check_settings(None) == (QualityThresholds(), 7)
