"""Services shared between threads, and the facade wiring of the interpretation services."""

from __future__ import annotations

import threading

from tests.interpret.builders import Builder, StoreTarget, nightly

from contexta.interpretation import DiagnosticsResult, RunSnapshot


def _seed(ctx) -> list[str]:
    builder = Builder(StoreTarget(ctx), "proj")
    return [
        nightly(
            builder,
            night,
            rows=0 if night == 5 else 1000.0 + night,
            null_rate=1.0 if night == 5 else 0.002,
            degraded=night == 5,
        )
        for night in range(1, 13)
    ]


def test_threads_share_one_service_safely(ctx):
    runs = _seed(ctx)
    expected = {run: [i.code for i in ctx.diagnose_run(run).issues] for run in runs}
    errors: list[BaseException] = []
    seen: dict[tuple[int, str], list[str]] = {}

    def worker(index: int) -> None:
        try:
            order = runs if index % 2 else list(reversed(runs))
            for run in order:
                snapshot = ctx.get_run_snapshot(run)
                assert len(snapshot.records) in (2, 3)
                seen[(index, run)] = [i.code for i in ctx.diagnose_run(run).issues]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for (_, run), found in seen.items():
        assert found == expected[run]


def test_facade_methods_reach_the_services(ctx):
    runs = _seed(ctx)
    listed = ctx.list_runs("proj")
    assert [r.run_id for r in listed] == runs
    snapshot = ctx.get_run_snapshot(listed[4].run_id)
    assert isinstance(snapshot, RunSnapshot)
    metrics = {r.key: r.value for r in snapshot.records if r.record_type == "metric"}
    assert metrics == {"rows-processed": 0.0, "feature-null-rate": 1.0}
    diagnosis = ctx.diagnose_run(listed[4].run_id)
    assert isinstance(diagnosis, DiagnosticsResult)
    assert [i.code for i in diagnosis.issues if i.code == "degraded_record"] == ["degraded_record"]
    assert [r.metric_key for r in ctx.detect_anomalies(runs[4]) if r.severity == "error"] == [
        "feature-null-rate",
        "rows-processed",
    ]
    assert len(ctx.get_metric_trend("rows-processed", project_name="proj").points) == 12
    assert ctx.audit_reproducibility(runs[0]).reproducibility_status == "missing"
