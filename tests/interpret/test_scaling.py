"""Analysing N runs costs O(N) work: reads are batched, never one query per run per rule.

These tests count repository calls on the in-memory fake (no timing asserts); the figures for
real workspaces come from ``bench/``.
"""

from __future__ import annotations

import pytest
from tests.interpret.builders import Builder
from tests.interpret.fake_repository import InMemoryRepository

from contexta.interpretation import DiagnosticsService, QueryService

NIGHTS = 150


def _started(n: int) -> str:
    return f"2025-01-{1 + n // 24:02d}T{n % 24:02d}:00:00Z"


@pytest.fixture
def many() -> InMemoryRepository:
    repo = InMemoryRepository()
    b = Builder(repo, "p")
    for n in range(NIGHTS):
        run = b.run(f"n{n:04d}", started=_started(n))
        stage = b.stage(run, "fe", started=_started(n))
        batch = b.batch(stage, "b0", started=_started(n))
        for m in range(5):
            b.metric(
                run, f"m{m}", float(m + (n % 3)), stage=stage, batch=batch, observed=_started(n)
            )
        if n % 7 == 4:
            b.degraded(run, "etl.null", stage=stage, batch=batch, observed=_started(n))
    return repo


def test_snapshot_and_diagnose_loop_batches_reads(many):
    qs = QueryService(many)
    diagnostics = DiagnosticsService(qs)
    many.calls.clear()
    degraded = 0
    runs = qs.list_runs("p")
    for run in runs:
        snapshot = qs.get_run_snapshot(run.run_id)
        result = diagnostics.diagnose_run(run.run_id)
        assert snapshot.run == run
        degraded += any(i.code == "degraded_record" for i in result.issues)
    assert len(runs) == NIGHTS
    assert degraded == len([n for n in range(NIGHTS) if n % 7 == 4])
    # read-ahead doubles up to 64 runs per fetch: 1+2+4+8+16+32+64 covers 127 runs
    assert many.calls["iter_record_rows"] <= 10
    for name in (
        "list_stages",
        "list_batches",
        "list_samples",
        "list_artifacts",
        "list_relations_for_refs",
    ):
        assert many.calls[name] <= 10, name
    assert many.calls["find_run"] == 0
    assert many.calls["list_runs"] <= 1


def test_descending_walk_is_batched_too(many):
    qs = QueryService(many)
    many.calls.clear()
    for run in qs.list_runs("p", sort_desc=True):
        qs.get_run_snapshot(run.run_id)
    assert many.calls["iter_record_rows"] <= 10


def test_isolated_requests_read_only_their_run(many):
    qs = QueryService(many)
    qs.list_runs("p")
    many.record_fetch_sizes.clear()
    qs.get_run_snapshot("n0100")
    qs.get_run_snapshot("n0010")
    qs.get_run_snapshot("n0050")
    assert many.record_fetch_sizes == [1, 1, 1]


def test_diagnosing_the_newest_run_reads_its_baseline_in_one_query(many):
    qs = QueryService(many)
    many.calls.clear()
    many.record_fetch_sizes.clear()
    result = DiagnosticsService(qs).diagnose_run(f"n{NIGHTS - 1:04d}")
    assert result.run_id == f"run:p.n{NIGHTS - 1:04d}"
    # one fetch for the run's snapshot, one for the 20 baseline runs' metrics
    assert many.record_fetch_sizes == [1, 20]


def test_a_write_invalidates_every_cache(many):
    qs = QueryService(many)
    diagnostics = DiagnosticsService(qs)
    target = "run:p.n0149"
    assert not diagnostics.diagnose_run(target).issues
    builder = Builder(many, "p", id_start=90_000)
    builder.degraded(target, "late.finding", stage="stage:p.n0149.fe")
    assert [i.code for i in diagnostics.diagnose_run(target).issues] == ["degraded_record"]
    assert len(qs.get_run_snapshot(target).records) == 6
