"""Many writers and readers on one workspace (issue 3): nothing lost, nothing locked out.

Every worker is a real process (see ``helpers_durability``). Records go through
the per-process spools and the shared SQLite file at the same time, so these
tests fail if spools collide, sequences repeat, indexing loses a batch, or
SQLite contention surfaces as "database is locked".
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.store import helpers_durability as helpers

from contexta.store.records import ScanFilter

WRITERS = 4
PER_WRITER = 10_000
RUN = "run:dur.many"


def _collect(workers: list, timeout: float) -> list[list]:
    """Messages of each (process, conn) until it exits; fail on any reported error."""
    inbox: list[list] = [[] for _ in workers]
    deadline = time.monotonic() + timeout
    alive = set(range(len(workers)))
    while alive and time.monotonic() < deadline:
        for index in list(alive):
            process, conn = workers[index]
            try:
                while conn.poll(0.01):
                    inbox[index].append(conn.recv())
            except EOFError:
                alive.discard(index)
                continue
            if not process.is_alive() and not conn.poll():
                alive.discard(index)
    for process, conn in workers:
        process.join(5)
        if process.is_alive():
            process.kill()
        conn.close()
    for index, messages in enumerate(inbox):
        errors = [m[1] for m in messages if m[0] == "error"]
        assert not errors, f"worker {index} failed:\n{errors[0]}"
        assert workers[index][0].exitcode == 0, f"worker {index} exit code"
    assert not alive, "workers did not finish in time"
    return inbox


@pytest.mark.slow  # 20-40 s on a loaded 2-core machine
def test_four_writers_and_a_reader_store_exactly_every_record(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    with helpers.open_ctx(root) as ctx:
        helpers.prepare_run(ctx, RUN)
    writers = [
        helpers.start("append", str(root), writer, PER_WRITER, RUN) for writer in range(WRITERS)
    ]
    reader = helpers.start("reader", str(root), RUN, WRITERS * PER_WRITER)
    inbox = _collect([*writers, reader], timeout=240)

    receipts: dict[str, int] = {}
    for messages in inbox[:WRITERS]:
        for message in messages:
            if message[0] == "acks":
                receipts.update(message[1])
    assert len(receipts) == WRITERS * PER_WRITER
    sequences = list(receipts.values())
    assert len(set(sequences)) == len(sequences), "two appends got the same sequence"
    assert [m for m in inbox[WRITERS] if m[0] == "reader"], "the reader never finished"

    with helpers.open_ctx(root) as ctx:
        store = ctx.record_store
        assert store.count_records() == WRITERS * PER_WRITER
        stored = {item.record_ref: item.sequence for item in store.scan(ScanFilter(run_ref=RUN))}
        report = store.check_integrity()
    assert stored == receipts, "stored sequences differ from the acknowledged ones"
    assert report.healthy, report.issues


def test_concurrent_puts_of_runs_and_stages_from_four_processes(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    runs_each = 40
    workers = [helpers.start("metadata", str(root), w, runs_each) for w in range(WRITERS)]
    inbox = _collect(workers, timeout=180)
    acked = {m[1] for messages in inbox for m in messages if m[0] == "run"}
    assert len(acked) == WRITERS * runs_each
    with helpers.open_ctx(root) as ctx:
        ms = ctx.metadata_store
        assert {str(run.run_ref) for run in ms.runs.list_runs()} == acked
        for run_ref in acked:
            stages = ms.stages.list_stage_executions(run_ref)
            assert [stage.stage_name for stage in stages] == ["s0", "s1"]
        report = ms.check_integrity()
    assert report.ok, report.issues


@pytest.mark.parametrize("flush", [True, False], ids=["after-flush", "background"])
def test_reads_in_another_process_see_appends(tmp_path: Path, flush: bool) -> None:
    """Visible after the writer's ``flush()``, and without it once the background step ran.

    The deadline for the background case is generous (a shared, loaded
    machine); the writer never flushes or closes, so without the background
    indexer the record would never become visible while it lives.
    """
    root = tmp_path / ".contexta"
    with helpers.open_ctx(root) as ctx:
        helpers.prepare_run(ctx, "run:dur.vis")
    process, conn = helpers.start("visibility", str(root), "run:dur.vis", 3)
    try:
        assert conn.recv() == ("appended", 3)
        with helpers.open_ctx(root) as reader:
            store = reader.record_store
            if flush:
                conn.send(("append", "late"))
                assert conn.recv() == ("appended", "late")
                conn.send(("flush",))
                assert conn.recv() == ("flushed",)
                refs = [item.record_ref for item in store.scan()]
                assert refs[-1] == "record:dur.vis.late"
                assert len(refs) == 4
            else:
                deadline = time.monotonic() + 10
                while store.count_records() < 3 and time.monotonic() < deadline:
                    time.sleep(0.05)
                refs = [item.record_ref for item in store.scan()]
                assert refs == [f"record:dur.vis.v{i}" for i in range(3)]
        assert process.is_alive(), "the writer must still hold its records when they show up"
        conn.send(("stop",))
        assert conn.recv() == ("stopping",)
    finally:
        process.kill()
        process.join(10)
        conn.close()


def test_reads_in_another_process_see_appends_at_once(tmp_path: Path) -> None:
    """No flush, no background step: the reader indexes the live writer's spool itself,
    and the writer's own indexing later skips what the reader did (no duplicates)."""
    root = tmp_path / ".contexta"
    with helpers.open_ctx(root) as ctx:
        helpers.prepare_run(ctx, "run:dur.now")
    process, conn = helpers.start("visibility", str(root), "run:dur.now", 3)
    try:
        assert conn.recv() == ("appended", 3)
        with helpers.open_ctx(root) as reader:
            store = reader.record_store
            assert [item.record_ref for item in store.scan()] == [
                f"record:dur.now.v{i}" for i in range(3)]
            conn.send(("append", "late"))
            assert conn.recv() == ("appended", "late")
            assert store.count_records() == 4  # at once, the writer indexed nothing yet
            conn.send(("flush",))
            assert conn.recv() == ("flushed",)
            refs = [item.record_ref for item in store.scan()]
            assert refs == [*(f"record:dur.now.v{i}" for i in range(3)), "record:dur.now.late"]
            assert store.check_integrity().healthy
        conn.send(("stop",))
        assert conn.recv() == ("stopping",)
    finally:
        process.kill()
        process.join(10)
        conn.close()
    with helpers.open_ctx(root) as after:
        assert after.record_store.count_records() == 4
        assert after.record_store.check_integrity().healthy


def test_reads_in_the_same_process_see_appends_at_once(tmp_path: Path) -> None:
    with helpers.open_ctx(tmp_path / ".contexta") as ctx:
        helpers.prepare_run(ctx, "run:dur.same")
        store = ctx.record_store
        for i in range(5):
            store.append(helpers.metric("run:dur.same", f"r{i}", float(i)))
            assert store.count_records() == i + 1
            assert [item.record_ref for item in store.scan()][-1] == f"record:dur.same.r{i}"
        store.append_many([helpers.event("run:dur.same", f"e{i}") for i in range(3)])
        assert store.count_records("run:dur.same") == 8
