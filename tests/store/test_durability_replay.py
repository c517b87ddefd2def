"""Idempotent replay (issue 3): whatever is replayed after a crash is deduplicated by record ref."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.store import helpers_durability as helpers

from contexta.errors import ConflictError, ValidationError

RUN = "run:dur.replay"


def _records(prefix: str, count: int) -> list:
    return [helpers.metric(RUN, f"{prefix}{i}", float(i), step=i) for i in range(count)]


def test_rerunning_the_same_appends_stores_nothing_twice(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    with helpers.open_ctx(root) as ctx:
        helpers.prepare_run(ctx, RUN)
        first = [ctx.record_store.append(r).accepted[0] for r in _records("a", 5)]
        batch = ctx.record_store.append_many(_records("b", 5))
    original = {r.record_ref: r.sequence for r in [*first, *batch.accepted]}

    # The job is re-run after a crash: same records, new process state.
    with helpers.open_ctx(root) as ctx:
        store = ctx.record_store
        again = [store.append(r) for r in _records("a", 5)]
        assert all(r.durable_count == 0 and r.accepted[0].deduplicated for r in again)
        assert {r.accepted[0].record_ref: r.accepted[0].sequence for r in again} == {
            ref: seq for ref, seq in original.items() if ".a" in ref
        }
        mixed = store.append_many([*_records("b", 5), *_records("c", 2)])
        assert [r.deduplicated for r in mixed.accepted] == [True] * 5 + [False] * 2
        assert mixed.durable_count == 2
        for receipt in mixed.accepted[:5]:
            assert receipt.sequence == original[receipt.record_ref]
        assert store.count_records() == 12
        stored = {item.record_ref: item.sequence for item in store.scan()}
        assert {ref: stored[ref] for ref in original} == original


def test_a_repeat_inside_one_batch_gets_the_first_ones_sequence(tmp_path: Path) -> None:
    with helpers.open_ctx(tmp_path / ".contexta") as ctx:
        helpers.prepare_run(ctx, RUN)
        a, b = _records("d", 2)
        result = ctx.record_store.append_many([a, b, a])
        receipts = result.accepted
        assert [r.deduplicated for r in receipts] == [False, False, True]
        assert receipts[2].sequence == receipts[0].sequence > 0
        assert result.durable_count == 2
        assert ctx.record_store.count_records() == 2


def test_reindexing_a_spool_that_was_already_indexed_adds_nothing(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    with helpers.open_ctx(root) as ctx:
        helpers.prepare_run(ctx, RUN)
    process, conn = helpers.start("visibility", str(root), RUN, 50)
    try:
        assert conn.recv() == ("appended", 50)
        conn.send(("flush",))  # half of the "crash": indexed, and then killed
        assert conn.recv() == ("flushed",)
    finally:
        process.kill()
        process.join(10)
        conn.close()
    (spool,) = (root / "records" / "spool").glob("*.spool")
    saved = tmp_path / "saved.spool"
    shutil.copyfile(spool, saved)

    with helpers.open_ctx(root) as ctx:
        before = [(item.record_ref, item.sequence) for item in ctx.record_store.scan()]
    assert len(before) == 50
    assert not spool.exists()
    # A recovery crashed after indexing but before the spool was removed, its
    # progress row lost: the whole spool is indexed a second time.
    shutil.copyfile(saved, spool.with_name("otherhost-1-00000000.spool"))
    with helpers.open_ctx(root) as ctx:
        store = ctx.record_store
        assert [(item.record_ref, item.sequence) for item in store.scan()] == before
        assert store.count_records() == 50
        assert store.check_integrity().healthy
        store.append(helpers.metric(RUN, "next"))
        assert store.count_records() == 51


def test_same_ref_with_different_content_is_a_conflict_and_writes_nothing(
    tmp_path: Path,
) -> None:
    with helpers.open_ctx(tmp_path / ".contexta") as ctx:
        helpers.prepare_run(ctx, RUN)
        store = ctx.record_store
        store.append(helpers.metric(RUN, "x", 1.0))
        with pytest.raises(ConflictError) as caught:
            store.append(helpers.metric(RUN, "x", 2.0))
        assert caught.value.code == "record_ref_conflict"
        store.flush()
        with pytest.raises(ConflictError) as caught:  # also once it is in the database
            store.append(helpers.metric(RUN, "x", 3.0))
        assert caught.value.code == "record_ref_conflict"
        with pytest.raises(ValidationError) as batch:
            store.append_many([helpers.metric(RUN, "y"), helpers.metric(RUN, "x", 4.0)])
        rejections = batch.value.details["rejections"]
        assert [(r["index"], r["code"]) for r in rejections] == [(1, "record_ref_conflict")]
        values = [item.record.payload.value for item in store.scan()]
        assert values == [1.0]
