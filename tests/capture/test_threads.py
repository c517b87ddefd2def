"""Scopes from worker threads and pools (contract §8.3)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from contexta.errors import LifecycleError

THREADS = 8
PER_THREAD = 150


def test_eight_threads_writing_one_run_all_arrive(ctx, records_of) -> None:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(run, index: int) -> None:
        try:
            barrier.wait()
            for step in range(PER_THREAD):
                run.metric(f"worker_{index}", step, step=step)
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    with ctx.run("threaded") as run:
        threads = [threading.Thread(target=work, args=(run, i)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    metrics = records_of(ctx, run.ref, "metric")
    assert len(metrics) == THREADS * PER_THREAD
    for index in range(THREADS):
        steps = sorted(m.payload.step for m in metrics if m.payload.metric_key == f"worker_{index}")
        assert steps == list(range(PER_THREAD))
    assert len({m.envelope.record_ref for m in metrics}) == len(metrics)


def test_pool_threads_find_the_single_open_run_through_the_facade(ctx, records_of) -> None:
    with ctx.run("pooled") as run, run.stage("fan-out") as stage:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda i: ctx.metric("item", i, step=i), range(40)))
        assert all(result.succeeded for result in results)
    metrics = records_of(ctx, run.ref, "metric")
    assert len(metrics) == 40
    # a worker thread without its own scopes uses the run's innermost open scope
    assert {m.envelope.stage_execution_ref for m in metrics} == {stage.ref}


def test_parallel_stages_in_worker_threads_use_their_own_scope(ctx, records_of) -> None:
    def one_stage(run, name: str) -> str:
        with run.stage(name) as stage:
            ctx.metric("rows", 1)  # resolves to this thread's stage, not a sibling's
            return stage.ref

    with ctx.run("parallel") as run, ThreadPoolExecutor(max_workers=3) as pool:
        stage_refs = list(pool.map(lambda n: one_stage(run, n), ["a", "b", "c"]))
    metrics = records_of(ctx, run.ref, "metric")
    assert sorted(str(m.envelope.stage_execution_ref) for m in metrics) == sorted(stage_refs)


def test_two_open_runs_make_worker_thread_calls_ambiguous(ctx) -> None:
    first = ctx.run("first")
    second_box: list = []
    thread = threading.Thread(target=lambda: second_box.append(ctx.run("second")))
    thread.start()
    thread.join()
    caught: list[BaseException] = []

    def capture() -> None:
        try:
            ctx.metric("x", 1)
        except LifecycleError as exc:
            caught.append(exc)
        assert ctx.current_run() is None

    worker = threading.Thread(target=capture)
    worker.start()
    worker.join()
    assert [exc.code for exc in caught] == ["runtime_ambiguous_run"]
    assert ctx.current_run() is first  # the main thread still sees its own run
    second_box[0].close()
    first.close()
    with pytest.raises(LifecycleError):
        ctx.metric("x", 1)


def test_asyncio_tasks_keep_their_own_scope(ctx, records_of) -> None:
    import asyncio

    async def stage_task(run, name: str) -> str:
        with run.stage(name) as stage:
            await asyncio.sleep(0.01)  # interleave with the sibling task
            ctx.metric("rows", 1)
            return stage.ref

    async def main(run) -> list[str]:
        return list(await asyncio.gather(stage_task(run, "a"), stage_task(run, "b")))

    with ctx.run("async") as run:
        refs = asyncio.run(main(run))
    metrics = records_of(ctx, run.ref, "metric")
    assert sorted(str(m.envelope.stage_execution_ref) for m in metrics) == sorted(refs)
