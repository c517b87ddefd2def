"""Diagnostic rules about statuses: runs, stages, batches, deployments (contract §7).

Stale runs (contract §8.8): an ``open`` run whose owner process is known to be gone (same
host, pid not alive) or that shows no activity for ``stale_run_after_seconds``. Activity is
the latest of: run start, record ``recorded_at``, stage/batch starts and ends, sample and
operation times, and the heartbeat the runtime keeps in ``metadata["contexta.heartbeat_at"]``.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from contexta.interpret.instants import age_seconds, instant_key
from contexta.interpret.results import EvidenceLink

if TYPE_CHECKING:
    from contexta.interpret.diagnosis_input import DiagnosisInput, Finding

from contexta.interpret.diagnosis_input import make_issue

__all__ = [
    "cancelled_run",
    "failed_batch",
    "failed_deployment",
    "failed_run",
    "incomplete_batch",
    "incomplete_stage",
    "missing_expected_stage",
    "missing_stage_metrics",
    "pid_alive",
    "stale_run",
]

OWNER_HOST_KEY = "contexta.owner_host"
OWNER_PID_KEY = "contexta.owner_pid"
HEARTBEAT_KEY = "contexta.heartbeat_at"
_TERMINAL = frozenset({"completed", "failed", "cancelled"})


def _run_link(inp: DiagnosisInput) -> EvidenceLink:
    run = inp.bundle.snapshot.run
    return EvidenceLink("run", run.run_id, run.name)


def failed_run(inp: DiagnosisInput) -> list[Finding]:
    run = inp.bundle.snapshot.run
    if run.status != "failed":
        return []
    details = {"status": run.status, "ended_at": run.ended_at}
    summary = f"run {run.name} failed"
    return [make_issue(0, "error", "failed_run", summary, details, run.run_id, _run_link(inp))]


def cancelled_run(inp: DiagnosisInput) -> list[Finding]:
    run = inp.bundle.snapshot.run
    if run.status != "cancelled":
        return []
    details = {"status": run.status, "ended_at": run.ended_at}
    summary = f"run {run.name} was cancelled"
    return [make_issue(0, "warning", "cancelled_run", summary, details, run.run_id, _run_link(inp))]


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def _last_activity(inp: DiagnosisInput) -> str:
    snapshot = inp.bundle.snapshot
    candidates: list[str] = [snapshot.run.started_at or ""]
    candidates += [row.recorded_at for row in inp.bundle.rows]
    for stage in snapshot.stages:
        candidates += [stage.started_at or "", stage.ended_at or ""]
    for batch in snapshot.batches:
        candidates += [batch.started_at or "", batch.ended_at or ""]
    candidates += [sample.observed_at for sample in snapshot.samples]
    heartbeat = snapshot.run.metadata.get(HEARTBEAT_KEY)
    if isinstance(heartbeat, str) and heartbeat.endswith("Z"):
        candidates.append(heartbeat)
    present = [text for text in candidates if text]
    return max(present, key=instant_key)


def stale_run(inp: DiagnosisInput) -> list[Finding]:
    run = inp.bundle.snapshot.run
    if run.status != "open":
        return []
    host = run.metadata.get(OWNER_HOST_KEY)
    pid = run.metadata.get(OWNER_PID_KEY)
    last_activity = _last_activity(inp)
    reason = None
    if (
        isinstance(host, str)
        and isinstance(pid, int)
        and not isinstance(pid, bool)
        and host == socket.gethostname()
        and not pid_alive(pid)
    ):
        reason = "owner_dead"
        summary = f"run {run.name} is open but its process {pid} on {host} no longer exists"
    else:
        limit = inp.settings.diagnostics.stale_run_after_seconds
        idle = age_seconds(last_activity, inp.now)
        if idle > limit:
            reason = "inactive"
            summary = (
                f"run {run.name} is open but nothing was written for {idle:.0f} s "
                f"(limit {limit:g} s)"
            )
    if reason is None:
        return []
    details = {
        "last_activity_at": last_activity,
        "owner_host": host if isinstance(host, str) else None,
        "owner_pid": pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        "reason": reason,
    }
    return [make_issue(0, "warning", "stale_run", summary, details, run.run_id, _run_link(inp))]


def incomplete_stage(inp: DiagnosisInput) -> list[Finding]:
    run = inp.bundle.snapshot.run
    run_terminal = run.status in _TERMINAL
    found = []
    for index, stage in enumerate(inp.bundle.snapshot.stages):
        if stage.status == "failed":
            severity, summary = "error", f"stage {stage.name} failed"
        elif stage.status == "cancelled":
            severity, summary = "warning", f"stage {stage.name} was cancelled"
        elif stage.status == "open" and run_terminal:
            severity = "warning"
            summary = f"stage {stage.name} is still open although the run is {run.status}"
        else:
            continue
        details = {"status": stage.status, "stage_name": stage.name, "run_id": run.run_id}
        link = EvidenceLink("stage", stage.stage_id, stage.name)
        found.append(
            make_issue(index, severity, "incomplete_stage", summary, details, stage.stage_id, link)
        )
    return found


def missing_stage_metrics(inp: DiagnosisInput) -> list[Finding]:
    if not inp.settings.diagnostics.require_metrics_for_completed_stages:
        return []
    with_metrics = {row.stage_ref for row in inp.bundle.rows if row.record_type == "metric"}
    run_id = inp.run_id
    found = []
    for index, stage in enumerate(inp.bundle.snapshot.stages):
        if stage.status != "completed" or stage.stage_id in with_metrics:
            continue
        details = {"stage_name": stage.name, "run_id": run_id}
        summary = f"completed stage {stage.name} recorded no metric"
        link = EvidenceLink("stage", stage.stage_id, stage.name)
        found.append(
            make_issue(
                index, "info", "missing_stage_metrics", summary, details, stage.stage_id, link
            )
        )
    return found


def failed_batch(inp: DiagnosisInput) -> list[Finding]:
    found = []
    for index, batch in enumerate(inp.bundle.snapshot.batches):
        if batch.status != "failed":
            continue
        details = {"batch_id": batch.batch_id, "stage_id": batch.stage_id, "run_id": inp.run_id}
        summary = f"batch {batch.name} of stage {batch.stage_id.rpartition('.')[2]} failed"
        link = EvidenceLink("batch", batch.batch_id, batch.name)
        found.append(
            make_issue(index, "error", "failed_batch", summary, details, batch.batch_id, link)
        )
    return found


def incomplete_batch(inp: DiagnosisInput) -> list[Finding]:
    snapshot = inp.bundle.snapshot
    run_terminal = snapshot.run.status in _TERMINAL
    stage_status = {stage.stage_id: stage.status for stage in snapshot.stages}
    found = []
    for index, batch in enumerate(snapshot.batches):
        if batch.status == "cancelled":
            summary = f"batch {batch.name} was cancelled"
        elif batch.status == "open" and (
            run_terminal or stage_status.get(batch.stage_id) in _TERMINAL
        ):
            summary = f"batch {batch.name} is still open although its stage or run has ended"
        else:
            continue
        details = {"batch_id": batch.batch_id, "status": batch.status, "run_id": inp.run_id}
        link = EvidenceLink("batch", batch.batch_id, batch.name)
        found.append(
            make_issue(index, "warning", "incomplete_batch", summary, details, batch.batch_id, link)
        )
    return found


def failed_deployment(inp: DiagnosisInput) -> list[Finding]:
    found = []
    for index, deployment in enumerate(inp.bundle.snapshot.deployments):
        if deployment.status != "failed":
            continue
        details = {"deployment_id": deployment.deployment_id, "run_id": inp.run_id}
        summary = f"deployment {deployment.name} failed"
        link = EvidenceLink("deployment", deployment.deployment_id, deployment.name)
        found.append(
            make_issue(
                index,
                "error",
                "failed_deployment",
                summary,
                details,
                deployment.deployment_id,
                link,
            )
        )
    return found


def missing_expected_stage(inp: DiagnosisInput) -> list[Finding]:
    expected: Any = inp.settings.diagnostics.expected_terminal_stage_names
    present = {stage.name for stage in inp.bundle.snapshot.stages}
    found = []
    for index, name in enumerate(expected):
        if name in present:
            continue
        details = {"expected_stage_name": name, "run_id": inp.run_id}
        summary = f"expected stage {name} is missing from run {inp.bundle.snapshot.run.name}"
        found.append(
            make_issue(
                index,
                "warning",
                "missing_expected_stage",
                summary,
                details,
                inp.run_id,
                _run_link(inp),
            )
        )
    return found
