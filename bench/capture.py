"""Capture benchmark (issue 4): metric() one at a time and emit_metrics in batches.

Measures, in one run on rows of the same shape:
  (a) raw ``sqlite3.executemany`` into the records table (same columns and
      indexes as the store's), one transaction: the baseline of bench/ingest.py;
  (b) ``stage.metric(key, value, step=i)`` one call at a time, everything the
      capture API does included (models, refs, timestamps, store append), next
      to the same records built and appended through ``record_store.append``
      so the cost of the capture layer itself is visible;
  (c) ``stage.emit_metrics`` with 1,000 ``MetricEmission`` items per call.
Targets: (b) >= 25 % of (a), (c) >= 50 % of (a).

usage: python bench/capture.py [--records N] [--profile]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from contexta import Contexta
from contexta.capture import MetricEmission
from contexta.contract import to_json
from contexta.store.records.rows import columns_from_record
from contexta.store.sql import schema

CONFIG = {
    "project_name": "bench",
    "capture": {"capture_installed_packages": False, "capture_code_revision": False},
}


def open_stage(root: Path) -> tuple[Contexta, object, object]:
    ctx = Contexta(workspace=str(root), config=CONFIG)
    run = ctx.run("capture-bench")
    stage = run.stage("train")
    return ctx, run, stage


def sample_records(n: int, root: Path) -> list[object]:
    """Records exactly as capture builds them, for the baseline rows."""
    ctx, run, stage = open_stage(root)
    factory = stage._factory  # the record builder metric() uses
    records = [factory.metric(f"m{i % 20}", float(i), "float", step=i, unit=None,
                              aggregation_scope="step", tags=None,
                              summary_basis="raw_observation") for i in range(n)]
    run.close()
    ctx.close()
    return records


def baseline(n: int, tmp: Path) -> float:
    path = tmp / "baseline.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    schema.records.create(engine)
    engine.dispose()
    names = [column.name for column in schema.records.columns]
    rows = []
    for index, record in enumerate(sample_records(n, tmp / "shape")):
        columns = columns_from_record(record, to_json(record))
        columns["seq"] = index + 1
        columns["appended_us"] = 0
        rows.append(tuple(columns[name] for name in names))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    sql = f"INSERT INTO records ({','.join(names)}) VALUES ({','.join('?' * len(names))})"
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def _profiler() -> Any:
    """cProfile without ``bench/`` on sys.path: bench/profile.py shadows the stdlib module."""
    here = str(Path(__file__).resolve().parent)
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != here]
    sys.modules.pop("profile", None)
    try:
        import cProfile
    finally:
        sys.path[:] = saved
    return cProfile.Profile()


def one_at_a_time(n: int, tmp: Path, profile: bool, rounds: int = 20) -> tuple[float, float]:
    """Rates of ``stage.metric()`` and of the store API with the same records.

    The two loops alternate in rounds on two workspaces, so a busy machine
    slows both alike and their difference is the capture layer's own cost.
    """
    capture_ctx, capture_run, stage = open_stage(tmp / "one")
    store_ctx, store_run, store_stage = open_stage(tmp / "store")
    metric, factory = stage.metric, store_stage._factory
    append = store_ctx.record_store.append
    profiler = _profiler() if profile else None
    spent = {"capture": 0.0, "store": 0.0}
    per_round = n // rounds
    for first in range(0, per_round * rounds, per_round):
        start = time.perf_counter()
        for i in range(first, first + per_round):
            append(factory.metric(f"m{i % 20}", float(i), "float", step=i, unit=None,
                                  aggregation_scope="step", tags=None,
                                  summary_basis="raw_observation"))
        spent["store"] += time.perf_counter() - start
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        for i in range(first, first + per_round):
            metric(f"m{i % 20}", float(i), step=i)
        spent["capture"] += time.perf_counter() - start
        if profiler:
            profiler.disable()
    for ctx, run in ((capture_ctx, capture_run), (store_ctx, store_run)):
        start = time.perf_counter()
        ctx.record_store.flush()
        spent["capture" if ctx is capture_ctx else "store"] += time.perf_counter() - start
        run.close()
        assert ctx.record_store.count_records(run.ref) == per_round * rounds
        ctx.close()
    if profiler:
        profiler.print_stats("tottime")
    done = per_round * rounds
    return done / spent["capture"], done / spent["store"]


def batched(n: int, tmp: Path, size: int = 1000) -> float:
    ctx, run, stage = open_stage(tmp / "many")
    start = time.perf_counter()
    for first in range(0, n, size):
        stage.emit_metrics([MetricEmission(f"m{i % 20}", float(i), step=i)
                            for i in range(first, min(n, first + size))])
    ctx.record_store.flush()
    elapsed = time.perf_counter() - start
    run.close()
    stored = ctx.record_store.count_records(run.ref)
    ctx.close()
    assert stored == n, stored
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--profile", action="store_true", help="profile phase (b)")
    args = parser.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        base = baseline(n, tmp)
        one, direct = one_at_a_time(n, tmp, args.profile)
        many = batched(n, tmp)
    print(f"records per phase              {n}")
    print(f"(a) raw executemany baseline   {base:10.0f} rows/s")
    print(f"    record_store.append        {direct:10.0f} rec/s  = {direct / base:6.1%} "
          "of baseline (same records, no capture layer)")
    print(f"(b) stage.metric() one by one  {one:10.0f} rec/s  = {one / base:6.1%} of baseline "
          f"(target 25%); capture layer adds {1e6 / one - 1e6 / direct:.1f} us per call")
    print(f"(c) emit_metrics x1000         {many:10.0f} rec/s  = {many / base:6.1%} of baseline "
          "(target 50%)")


if __name__ == "__main__":
    main()
