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

Each phase runs ``--repeat`` times, interleaved (a, b, c, a, b, c, ...), each on a fresh
workspace, and the best run of each is compared: on a shared machine the best run is the
one least disturbed. Rates are given by wall clock and by CPU time of this process (all
threads), which other processes disturb much less. Every capture phase ends with its
records indexed in SQLite (``flush``), like the baseline's rows.

usage: python bench/capture.py [--records N] [--repeat N] [--profile]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass
class Clock:
    """Wall and CPU seconds of one timed block."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Clock:
        self._start = (time.perf_counter(), time.process_time())
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._start[0]
        self.cpu += time.process_time() - self._start[1]


def baseline(n: int, tmp: Path) -> Clock:
    path = tmp / "baseline.sqlite3"
    tmp.mkdir(parents=True, exist_ok=True)
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
    with Clock() as clock:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
    conn.close()
    return clock


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


def one_at_a_time(n: int, tmp: Path, profiler: Any = None, rounds: int = 20
                  ) -> tuple[Clock, Clock]:
    """``stage.metric()`` and, alternating with it, the store API on the same records.

    The two loops alternate in rounds on two workspaces, so a busy machine slows both
    alike and their difference is the capture layer's own cost.
    """
    capture_ctx, capture_run, stage = open_stage(tmp / "one")
    store_ctx, store_run, store_stage = open_stage(tmp / "store")
    metric, factory = stage.metric, store_stage._factory
    append = store_ctx.record_store.append
    spent = {"capture": Clock(), "store": Clock()}
    per_round = n // rounds
    for first in range(0, per_round * rounds, per_round):
        with spent["store"]:
            for i in range(first, first + per_round):
                append(factory.metric(f"m{i % 20}", float(i), "float", step=i, unit=None,
                                      aggregation_scope="step", tags=None,
                                      summary_basis="raw_observation"))
        if profiler:
            profiler.enable()
        with spent["capture"]:
            for i in range(first, first + per_round):
                metric(f"m{i % 20}", float(i), step=i)
        if profiler:
            profiler.disable()
    for ctx, run in ((capture_ctx, capture_run), (store_ctx, store_run)):
        with spent["capture" if ctx is capture_ctx else "store"]:
            ctx.record_store.flush()
        run.close()
        assert ctx.record_store.count_records(run.ref) == per_round * rounds
        ctx.close()
    return spent["capture"], spent["store"]


def batched(n: int, tmp: Path, size: int = 1000) -> Clock:
    ctx, run, stage = open_stage(tmp / "many")
    with Clock() as clock:
        for first in range(0, n, size):
            stage.emit_metrics([MetricEmission(f"m{i % 20}", float(i), step=i)
                                for i in range(first, min(n, first + size))])
        ctx.record_store.flush()
    run.close()
    stored = ctx.record_store.count_records(run.ref)
    ctx.close()
    assert stored == n, stored
    return clock


LABELS = {
    "a": ("(a) raw executemany baseline ", ""),
    "store": ("    record_store.append       ", "same records, no capture layer"),
    "b": ("(b) stage.metric() one by one", "target 25%"),
    "c": ("(c) emit_metrics x1000       ", "target 50%"),
}


def report(n: int, runs: dict[str, list[Clock]]) -> None:
    best = {name: (n / min(c.wall for c in clocks), n / min(c.cpu for c in clocks))
            for name, clocks in runs.items()}
    base_wall, base_cpu = best["a"]
    print(f"records per phase {n}, best of {len(runs['a'])} interleaved runs; records/s")
    print(f"{'':29s} {'wall':>9s} {'of (a)':>7s} {'cpu':>9s} {'of (a)':>7s}")
    for name in ("a", "store", "b", "c"):
        wall, cpu = best[name]
        label, target = LABELS[name]
        print(f"{label} {wall:9.0f} {wall / base_wall:7.1%} {cpu:9.0f} {cpu / base_cpu:7.1%}"
              f"  {target}")
    for name, clocks in runs.items():
        walls = " ".join(f"{n / c.wall:.0f}" for c in clocks)
        print(f"    every run of ({name}): wall {walls}")
    # Each repeat runs (a), (b), (c) back to back: the median of the per-repeat ratios is
    # the figure least moved by a machine whose speed drifts between repeats.
    for name in ("b", "c"):
        paired = sorted(a.wall / x.wall for a, x in zip(runs["a"], runs[name], strict=True))
        cpu = sorted(a.cpu / x.cpu for a, x in zip(runs["a"], runs[name], strict=True))
        print(f"({name}) median of paired ratios to (a): wall {statistics.median(paired):.1%}, "
              f"cpu {statistics.median(cpu):.1%}  ({LABELS[name][1]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile phase (b)")
    args = parser.parse_args()
    n = args.records
    profiler = _profiler() if args.profile else None
    runs: dict[str, list[Clock]] = {"a": [], "store": [], "b": [], "c": []}
    for rep in range(args.repeat):
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            runs["a"].append(baseline(n, tmp / f"a{rep}"))
            capture, store = one_at_a_time(n, tmp / f"b{rep}", profiler)
            runs["b"].append(capture)
            runs["store"].append(store)
            runs["c"].append(batched(n, tmp / f"c{rep}"))
    report(n, runs)
    if profiler:
        profiler.print_stats("tottime")


if __name__ == "__main__":
    main()
