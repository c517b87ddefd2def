"""A forked worker inherits no scope (contract §8.3): it opens and completes its own run.

Uses a real ``fork`` (``multiprocessing`` fork context), as a ``Pool`` worker would.
"""

from __future__ import annotations

import multiprocessing
import sys
from typing import Any

import pytest

from contexta.errors import LifecycleError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs os.fork")

# Pool tasks are pickled by name, so a forked pool worker finds the test's ctx here.
_POOL_CTX: dict[int, Any] = {}


@pytest.fixture(autouse=True)
def _share_ctx_with_pool_workers(ctx) -> Any:
    _POOL_CTX[id(ctx)] = ctx
    yield
    _POOL_CTX.pop(id(ctx), None)


def _pool_task(ctx_id: int) -> tuple[str, str]:
    ctx = _POOL_CTX[ctx_id]
    with ctx.run("pool-worker") as run:
        run.metric("rows", 1)
    return run.ref, run.status


def _child_report(ctx: Any) -> dict[str, Any]:
    """What a worker forked inside the parent's run sees and does."""
    report: dict[str, Any] = {"current_run": ctx.current_run()}
    try:
        ctx.metric("before_run", 1)
    except LifecycleError as error:
        report["metric_error"] = error.code
    with ctx.run("worker") as run, run.stage("chunk") as stage:
        stage.metric("rows", 7)
        ctx.metric("via_facade", 2)
    report.update(run=run.ref, status=run.status)
    return report


def _in_forked_child(ctx: Any) -> dict[str, Any]:
    """Run ``_child_report`` in a forked process and return its report (or its error)."""
    fork = multiprocessing.get_context("fork")
    receiver, sender = fork.Pipe(duplex=False)

    def target() -> None:
        try:
            report = _child_report(ctx)
            report["current_run"] = repr(report["current_run"])
            sender.send(report)
        except BaseException as error:  # report it: the parent asserts on it
            sender.send({"error": f"{type(error).__name__}: {error}"})

    child = fork.Process(target=target)
    child.start()
    try:
        assert receiver.poll(60), "the forked child sent nothing"
        return receiver.recv()  # type: ignore[no-any-return]
    finally:
        child.join(60)


def test_forked_child_opens_and_completes_its_own_run(ctx, records_of) -> None:
    with ctx.run("parent") as parent, parent.stage("fan-out") as stage:
        stage.metric("before_fork", 1)
        report = _in_forked_child(ctx)
        stage.metric("after_fork", 2)  # the parent's scopes still work
        assert ctx.current_run() is parent
    assert "error" not in report, report["error"]
    assert report["current_run"] == "None"
    assert report["metric_error"] == "runtime_capture_requires_run"
    assert report["status"] == "completed"
    runs = ctx.metadata_store.runs
    assert runs.get_run(report["run"]).status == "completed"
    assert runs.get_run(parent.ref).status == "completed"
    child_keys = [r.payload.metric_key for r in records_of(ctx, report["run"], "metric")]
    assert child_keys == ["rows", "via_facade"]
    parent_keys = [r.payload.metric_key for r in records_of(ctx, parent.ref, "metric")]
    assert parent_keys == ["before_fork", "after_fork"]


def test_pool_worker_forked_inside_a_run_can_open_a_run(ctx) -> None:
    with ctx.run("parent"):
        with multiprocessing.get_context("fork").Pool(1) as pool:
            result = pool.apply_async(_pool_task, (id(ctx),))
            run_ref, status = result.get(timeout=60)
    assert status == "completed"
    assert ctx.metadata_store.runs.get_run(run_ref).status == "completed"
