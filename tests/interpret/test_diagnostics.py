"""``diagnose_run``: status, record and lifecycle codes of contract §7 (real SQLite)."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys

import pytest
from tests.interpret.builders import day, nightly

from contexta.interpretation import (
    DIAGNOSTIC_CODES,
    CompletenessNote,
)

SECTION_7_CODES = (
    "failed_run",
    "cancelled_run",
    "stale_run",
    "incomplete_stage",
    "missing_stage_metrics",
    "failed_batch",
    "incomplete_batch",
    "failed_deployment",
    "degraded_record",
    "orphan_record",
    "non_finite_metric",
    "duplicate_metric_step",
    "anomalous_metric",
    "schema_change",
    "null_rate_spike",
    "zero_collapse",
    "missing_expected_stage",
)


def codes(result) -> list[tuple[str, str]]:
    return [(issue.code, issue.severity) for issue in result.issues]


def test_codes_constant_is_the_section_7_table():
    assert DIAGNOSTIC_CODES == SECTION_7_CODES


def test_seed_scenario_night_by_night(env):
    b, diagnose = env
    for night in range(1, 8):
        broken = night == 5
        nightly(
            b,
            night,
            rows=0 if broken else 118_000 + night * 200,
            null_rate=1.0 if broken else 0.002,
            degraded=broken,
        )
    for night in range(1, 8):
        found = codes(diagnose(f"night-{night:02d}"))
        if night == 5:
            assert found == [
                ("degraded_record", "warning"),
                ("anomalous_metric", "error"),
                ("anomalous_metric", "error"),
                ("null_rate_spike", "error"),
            ]
        else:
            assert found == [], night
    result = diagnose("night-05")
    assert result.highest_severity == "error"
    degraded = result.issues[0]
    assert degraded.summary == (
        "degraded record detected for etl.feature_column_null_overflow: all NULL"
    )
    assert degraded.details["payload_severity"] == "warning"
    assert degraded.details["category"] == "verification"
    assert degraded.details["batch_id"].endswith(".fe.b0")
    anomaly = {i.details["metric_key"]: i.details for i in result.issues[1:3]}
    assert anomaly["feature-null-rate"]["z_score"] == pytest.approx(49_900)
    assert anomaly["feature-null-rate"]["baseline_std"] == 0.0
    assert anomaly["rows-processed"]["baseline_run_count"] == 4
    spike = result.issues[3].details
    assert (spike["value"], spike["baseline_max"]) == (1.0, 0.002)
    assert result.completeness_notes[0] == CompletenessNote(
        "info", "deployment_list_empty", {"run_id": "run:proj.night-05"}
    )


def test_run_status_codes(env):
    b, diagnose = env
    failed = b.run("f", status="failed", ended=day(1, 2))
    b.run("c", status="cancelled")
    result = diagnose(failed)
    assert codes(result) == [("failed_run", "error")]
    assert dict(result.issues[0].details) == {"status": "failed", "ended_at": day(1, 2)}
    assert result.issues[0].subject_ref == failed
    assert codes(diagnose("c")) == [("cancelled_run", "warning")]


def test_stale_run_owner_dead_and_inactive(env):
    b, diagnose = env
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = socket.gethostname()
    b.run(
        "dead",
        status="open",
        started=day(1, 2, 30),
        metadata={"contexta.owner_host": host, "contexta.owner_pid": child.pid},
    )
    (issue,) = diagnose("dead").issues
    assert (issue.code, issue.details["reason"], issue.details["owner_pid"]) == (
        "stale_run",
        "owner_dead",
        child.pid,
    )
    b.run(
        "alive",
        status="open",
        started=day(1, 2, 30),
        metadata={"contexta.owner_host": host, "contexta.owner_pid": os.getpid()},
    )
    assert diagnose("alive").issues == ()
    quiet = b.run("quiet", status="open", started=day(1, 0))
    b.metric(quiet, "x", 1.0, observed=day(1, 1, 30))
    (issue,) = diagnose("quiet").issues
    assert issue.details["reason"] == "inactive"
    assert issue.details["last_activity_at"] == day(1, 1, 30)
    assert issue.details["owner_host"] is None
    assert diagnose("quiet", stale_run_after_seconds=7200).issues == ()
    b.run(
        "beating",
        status="open",
        started=day(1, 0),
        metadata={"contexta.heartbeat_at": day(1, 2, 59)},
    )
    assert diagnose("beating").issues == ()
    # a different host's pid is never probed: only inactivity counts there
    b.run(
        "remote",
        status="open",
        started=day(1, 2, 50),
        metadata={"contexta.owner_host": "elsewhere", "contexta.owner_pid": child.pid},
    )
    assert diagnose("remote").issues == ()


def test_stage_batch_and_deployment_codes(env):
    b, diagnose = env
    run = b.run("r")
    ok = b.stage(run, "ok", order=0)
    bad = b.stage(run, "bad", status="failed", order=1)
    stop = b.stage(run, "stop", status="cancelled", order=2)
    hang = b.stage(run, "hang", status="open", order=3)
    for stage in (ok, bad, stop, hang):
        b.metric(run, "m", 1.0, stage=stage)
    b.batch(ok, "fine")
    b.batch(ok, "broke", status="failed", order=1)
    b.batch(ok, "halt", status="cancelled", order=2)
    b.batch(ok, "dangling", status="open", order=3)
    b.deployment("serve", run_ref=run, status="failed")
    b.deployment("fine", run_ref=run)
    result = diagnose(run)
    assert codes(result) == [
        ("incomplete_stage", "error"),
        ("incomplete_stage", "warning"),
        ("incomplete_stage", "warning"),
        ("failed_batch", "error"),
        ("incomplete_batch", "warning"),
        ("incomplete_batch", "warning"),
        ("failed_deployment", "error"),
    ]
    stage_issue = result.issues[0]
    assert dict(stage_issue.details) == {"status": "failed", "stage_name": "bad", "run_id": run}
    assert result.issues[3].details["batch_id"].endswith(".ok.broke")
    assert result.issues[3].details["stage_id"] == ok
    assert [i.details["status"] for i in result.issues[4:6]] == ["cancelled", "open"]
    assert result.issues[6].details["deployment_id"] == "deployment:proj.serve"


def test_open_stage_of_open_run_is_fine_and_missing_metrics_is_info(env):
    b, diagnose = env
    run = b.run("live", status="open", started=day(1, 2, 59))
    b.stage(run, "working", status="open")
    b.stage(run, "done", order=1)
    result = diagnose(run)
    assert codes(result) == [("missing_stage_metrics", "info")]
    assert dict(result.issues[0].details) == {"stage_name": "done", "run_id": run}
    assert diagnose(run, require_metrics_for_completed_stages=False).issues == ()


def test_degraded_records_use_payload_severity_and_markers(env):
    b, diagnose = env
    run = b.run("r")
    stage = b.stage(run, "s")
    b.metric(run, "m", 1.0, stage=stage)
    b.degraded(run, "io.lost", severity="error", summary="disk", stage=stage)
    b.metric(run, "partial", 2.0, stage=stage, marker="partial_failure")
    result = diagnose(run)
    assert codes(result) == [("degraded_record", "error"), ("degraded_record", "warning")]
    first, second = result.issues
    assert first.summary == "degraded record detected for io.lost: disk"
    assert second.summary == "degraded record detected for partial"
    assert second.details["record_type"] == "metric"
    assert second.details["degradation_marker"] == "partial_failure"
    assert second.details["payload_severity"] is None
    assert diagnose(run, detect_degraded_records=False).issues == ()


def test_orphans_non_finite_and_duplicate_steps(env):
    b, diagnose = env
    run = b.run("r")
    stage = b.stage(run, "s")
    ghost = "stage:proj.r.ghost"
    r1 = b.metric(run, "a", 1.0, stage=ghost)
    r2 = b.metric(run, "b", 1.0, stage=ghost)
    b.metric(run, "loss", math.nan, stage=stage, step=1)
    b.metric(run, "loss", math.inf, stage=stage, step=2)
    b.metric(run, "loss", -math.inf, stage=stage)
    b.metric(run, "fine", -0.0, stage=stage)
    b.metric(run, "fine", sys.float_info.max, stage=stage)
    b.metric(run, "acc", 0.1, stage=stage, step=5)
    b.metric(run, "acc", 0.2, stage=stage, step=5)
    b.metric(run, "acc", 0.3, stage=stage, step=6)
    b.metric(run, "acc", 0.3, stage=stage)
    b.metric(run, "acc", 0.3, stage=stage)
    result = diagnose(run)
    assert codes(result) == [
        ("orphan_record", "warning"),
        ("non_finite_metric", "warning"),
        ("duplicate_metric_step", "warning"),
    ]
    orphan, non_finite, duplicate = (dict(i.details) for i in result.issues)
    assert orphan == {
        "missing_ref": ghost,
        "ref_kind": "stage",
        "record_count": 2,
        "record_ids": (r1, r2),
    }
    assert (non_finite["nan_count"], non_finite["pos_inf_count"], non_finite["neg_inf_count"]) == (
        1,
        1,
        1,
    )
    assert non_finite["steps"] == (1, 2)
    assert non_finite["metric_key"] == "loss"
    assert (duplicate["steps"], duplicate["record_count"]) == ((5,), 2)


def test_missing_expected_stage_only_when_configured(env):
    b, diagnose = env
    run = b.run("r")
    b.metric(run, "m", 1.0, stage=b.stage(run, "train"))
    assert diagnose(run).issues == ()
    result = diagnose(run, expected_terminal_stage_names=("train", "evaluate", "package"))
    assert codes(result) == [("missing_expected_stage", "warning")] * 2
    assert [i.details["expected_stage_name"] for i in result.issues] == ["evaluate", "package"]


def test_issue_order_is_table_then_snapshot(env):
    b, diagnose = env
    run = b.run("r", status="failed")
    s1 = b.stage(run, "one", order=0)
    s2 = b.stage(run, "two", order=1, status="failed")
    b.degraded(run, "late", stage=s2)
    b.degraded(run, "early", stage=s1, severity="error")
    b.metric(run, "m", 1.0, stage=s1)
    b.metric(run, "m", 1.0, stage=s2)
    result = diagnose(run)
    assert [i.code for i in result.issues] == [
        "failed_run",
        "incomplete_stage",
        "degraded_record",
        "degraded_record",
    ]
    assert [i.details["stage_id"] for i in result.issues[2:]] == [s2, s1]
    assert result.evidence_links[0].ref == run
