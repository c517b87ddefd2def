"""``snapshot_rows`` and ``record_details``: a snapshot's two-step bulk reads (issue 3)."""

from __future__ import annotations

import pytest
from tests.store import helpers_durability as helpers

from contexta.errors import StoreAccessError
from contexta.store.records import indexer
from contexta.store.records.rows import DETAIL_COLUMNS, HOT_COLUMNS

RUNS = ("run:dur.a", "run:dur.b", "run:dur.c")


@pytest.fixture
def store(ctx):
    for run in RUNS:
        helpers.prepare_run(ctx, run)
    store = ctx.record_store
    for n in range(6):  # interleaved: a, b, a, b, ...
        run = RUNS[n % 2]
        store.append(helpers.metric(run, f"m{n}", float(n), step=n))
        store.append(helpers.event(run, f"e{n}", message=f"said {n}"))
    return store


def _expected(store, run):
    """The same columns through the full read path."""
    names = (
        "sequence record_ref record_type stage_ref batch_ref sample_ref operation_ref "
        "deployment_ref key"
    ).split()
    return [
        (*(getattr(row, name) for name in names), row.step, row.observed_at)
        for row in store.iter_rows(run_refs=[run])
    ]


def _comparable(row):
    assert row[9] is None  # value_int: these metrics are floats
    assert row[11] is None  # value_text: only for huge ints and non-finite values
    return (*row[:9], row[12], row[13])


def test_one_run_is_read_in_sequence_order(store):
    rows = store.snapshot_rows([RUNS[0]])
    assert list(rows) == [RUNS[0]]
    got = rows[RUNS[0]]
    assert len(got) == 12 // 2
    assert all(len(row) == len(HOT_COLUMNS) for row in got)
    assert [_comparable(row) for row in got] == _expected(store, RUNS[0])
    assert [row[10] for row in got if row[2] == "metric"] == [0.0, 2.0, 4.0]


def test_several_runs_are_read_at_once_and_grouped(store):
    rows = store.snapshot_rows([RUNS[1], RUNS[0], RUNS[2], RUNS[1]])
    assert list(rows) == [RUNS[1], RUNS[0], RUNS[2]]
    assert rows[RUNS[2]] == []
    for run in RUNS[:2]:
        assert [_comparable(row) for row in rows[run]] == _expected(store, run)
        assert all(row[len(HOT_COLUMNS)] == run for row in rows[run])


def test_no_runs_read_nothing(store):
    assert store.snapshot_rows([]) == {}


def test_details_of_a_sequence_range(store):
    rows = store.snapshot_rows([RUNS[0]])[RUNS[0]]
    first, last = rows[1][0], rows[-2][0]
    details = store.record_details([RUNS[0]], first, last, with_body=False)
    assert sorted(details) == sorted(row[1] for row in rows[1:-1])
    stored = {row.record_ref: row for row in store.iter_rows(run_refs=[RUNS[0]])}
    for ref, detail in details.items():
        row = stored[ref]
        want = (row.recorded_at, row.completeness_marker, row.degradation_marker)
        assert detail == (*want, row.producer_ref, row.severity)
    with_body = store.record_details([RUNS[0]], first, last, with_body=True)
    assert all(len(d) == len(DETAIL_COLUMNS) + 1 for d in with_body.values())
    assert all(with_body[ref][-1] == stored[ref].record_json for ref in with_body)
    assert store.record_details([], first, last, with_body=True) == {}


def test_details_by_ref_cover_stored_and_unindexed_records(store, monkeypatch):
    stored = next(iter(store.iter_rows(run_refs=[RUNS[0]])))
    found = store.record_details_by_ref([stored.record_ref, "record:dur.nope"], with_body=True)
    assert list(found) == [stored.record_ref]
    assert found[stored.record_ref][-1] == stored.record_json

    def failing(*args: object, **kwargs: object) -> int:
        msg = "injected: the database refuses writes"
        raise StoreAccessError(msg, code="store_io_error")

    monkeypatch.setattr(indexer, "insert_rows", failing)
    receipt = store.append(helpers.event(RUNS[2], "late", message="not indexed")).accepted[0]
    rows = store.snapshot_rows([RUNS[2], RUNS[0]])
    assert [row[1] for row in rows[RUNS[2]]] == [receipt.record_ref]
    assert rows[RUNS[2]][0][0] == receipt.sequence
    found = store.record_details_by_ref([receipt.record_ref], with_body=False)
    assert found[receipt.record_ref] == (helpers.TS, "complete", "none", "dur", "info")
    body = store.record_details_by_ref([receipt.record_ref], with_body=True)
    assert '"not indexed"' in body[receipt.record_ref][-1]
