"""What a dying process leaves behind (contract §5.1, §8.8): killed → open, exit → failed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

WRITER = textwrap.dedent(
    """
    import json, sys, time
    from contexta import Contexta

    workspace, mode = sys.argv[1:3]
    ctx = Contexta(workspace=workspace, config={
        "project_name": "dying",
        "capture": {"capture_installed_packages": False, "capture_code_revision": False},
    })
    run = ctx.run("doomed")
    stage = run.stage("work")
    stage.metric("progress", 1, step=0)
    print(json.dumps({"run": run.ref, "stage": stage.ref}), flush=True)
    if mode == "hang":
        time.sleep(120)
    # mode "exit": leave without closing anything; the atexit hook must close it
    """
)


def _run_writer(workspace: Path, mode: str) -> tuple[int, int, dict[str, str]]:
    """Start the writer, SIGKILL it after its first capture if ``mode == "hang"``.

    Returns (pid, exit code, refs it printed).
    """
    with subprocess.Popen([sys.executable, "-c", WRITER, str(workspace), mode],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        if mode == "hang" and line:
            os.kill(process.pid, signal.SIGKILL)
        _, err = process.communicate(timeout=60)
    assert line, err
    return process.pid, process.returncode, json.loads(line)


def test_killed_process_leaves_an_open_run_that_diagnoses_stale(make_ctx, workspace) -> None:
    pid, code, refs = _run_writer(workspace, "hang")
    assert code == -signal.SIGKILL
    ctx = make_ctx("dying")
    run = ctx.metadata_store.runs.get_run(refs["run"])
    assert run.status == "open"
    assert run.ended_at is None
    assert run.metadata["contexta.owner_pid"] == pid
    assert ctx.metadata_store.stages.get_stage_execution(refs["stage"]).status == "open"
    assert [r.run_id for r in ctx.list_runs("dying")] == [refs["run"]]
    issues = {issue.code: issue for issue in ctx.diagnose_run(refs["run"]).issues}
    assert "stale_run" in issues
    assert issues["stale_run"].details["reason"] == "owner_dead"


def test_process_exiting_with_open_scopes_closes_them_failed(make_ctx, workspace) -> None:
    _, code, refs = _run_writer(workspace, "exit")
    assert code == 0
    ctx = make_ctx("dying")
    assert ctx.metadata_store.runs.get_run(refs["run"]).status == "failed"
    assert ctx.metadata_store.stages.get_stage_execution(refs["stage"]).status == "failed"


def test_forked_child_does_not_close_its_parents_run(ctx) -> None:
    run = ctx.run("parent-owned")
    pid = os.fork()
    if pid == 0:  # child: exits normally, running atexit hooks
        try:
            ctx.session.close_open_scopes(status="failed")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert ctx.metadata_store.runs.get_run(run.ref).status == "open"
    run.close()
    assert ctx.metadata_store.runs.get_run(run.ref).status == "completed"
