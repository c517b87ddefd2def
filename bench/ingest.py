"""Ingest benchmark for the record store (issue 3).

Measures, in one run on the same rows:
  (a) raw ``sqlite3.executemany`` into a table of the same shape as the
      records table (same columns and indexes), one transaction: the baseline;
  (b) one-at-a-time ``record_store.append``, building the RecordEnvelope /
      MetricPayload / MetricRecord objects inside the loop;
  (c) ``append_many`` in batches of 1,000; the objects are built BEFORE the
      clock starts (serializing and storing them is timed, constructing not).
Each phase runs ``--repeat`` times, interleaved (a, b, c, a, b, c, ...), each
on a fresh database, and the best run of each phase is compared: on a shared,
loaded machine the best run is the one least disturbed by other processes.
Rates are given by wall clock and by CPU time of this process (all threads),
which other processes disturb much less. Then, in fresh subprocesses: peak
RSS while ingesting 1,000,000 records, and ``get_run_snapshot`` of a run
holding 100,000 records (the interpretation modules are imported before the
clock starts; skipped when ``contexta.interpretation`` is missing).

usage: python bench/ingest.py [--records N] [--repeat N] [--big N] [--snapshot N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    BatchExecution,
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
    to_json,
)
from contexta.store.records.rows import columns_from_record
from contexta.store.sql import schema

P, RUN, STAGE, BATCH = "project:bench", "run:bench.n1", "stage:bench.n1.fe", "batch:bench.n1.fe.b0"
TS = "2025-01-01T01:00:00Z"


def make_record(i: int, run: str = RUN, stage: str = STAGE, batch: str = BATCH) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:{run[4:]}.r{i:08d}",
            record_type="metric",
            recorded_at=TS,
            observed_at=TS,
            producer_ref="bench",
            run_ref=run,
            stage_execution_ref=stage,
            batch_execution_ref=batch,
            completeness_marker="complete",
            degradation_marker="none",
        ),
        payload=MetricPayload(
            metric_key=f"m{i % 20}", value=float(i), value_type="float64", step=i
        ),
    )


def _config(root: Path) -> UnifiedConfig:
    return UnifiedConfig(project_name="bench", workspace=WorkspaceConfig(root_path=root))


def open_workspace(root: Path) -> Contexta:
    ctx = Contexta(config=_config(root))
    ms = ctx.metadata_store
    ms.projects.put_project(Project(project_ref=P, name="bench", created_at=TS))
    ms.runs.put_run(Run(run_ref=RUN, project_ref=P, name="n1", status="open", started_at=TS))
    ms.stages.put_stage_execution(
        StageExecution(
            stage_execution_ref=STAGE, run_ref=RUN, stage_name="fe", status="open", started_at=TS
        )
    )
    ms.batches.put_batch_execution(
        BatchExecution(
            batch_execution_ref=BATCH, run_ref=RUN, stage_execution_ref=STAGE, batch_name="b0",
            status="open", started_at=TS,
        )
    )
    return ctx


class Clock:
    """Wall and CPU seconds of one timed block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def baseline(n: int, tmp: Path) -> Clock:
    """Raw executemany of the same rows into the same table shape."""
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "baseline.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    schema.records.create(engine)
    engine.dispose()
    names = [c.name for c in schema.records.columns]
    rows = []
    for i in range(n):
        record = make_record(i)
        body = to_json(record)
        columns = columns_from_record(record, body)
        columns["seq"] = i + 1
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


def one_at_a_time(n: int, tmp: Path) -> Clock:
    ctx = open_workspace(tmp / "one" / ".contexta")
    store = ctx.record_store
    with Clock() as clock:
        for i in range(n):
            store.append(make_record(i))
        store.flush()
    ctx.close()
    return clock


def batched(n: int, tmp: Path, size: int = 1000) -> Clock:
    ctx = open_workspace(tmp / "many" / ".contexta")
    store = ctx.record_store
    batches = [[make_record(i) for i in range(f, min(n, f + size))] for f in range(0, n, size)]
    with Clock() as clock:  # objects built above: (c) times serializing and storing only
        for batch in batches:
            store.append_many(batch)
        store.flush()
    ctx.close()
    return clock


def peak_rss_mb() -> float:
    """This process's peak RSS. ``ru_maxrss`` is not used: Linux carries it across
    ``exec``, so a child started from a big parent would report the parent's size."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_ingest(n: int) -> dict[str, float]:
    """Run in a child process: ingest n records in batches, report peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = open_workspace(Path(tmp) / ".contexta")
        store = ctx.record_store
        start = time.perf_counter()
        for first in range(0, n, 1000):
            store.append_many([make_record(i) for i in range(first, min(n, first + 1000))])
        store.flush()
        elapsed = time.perf_counter() - start
        count = store.count_records()
        ctx.close()
    rss = peak_rss_mb()
    return {"records": count, "seconds": round(elapsed, 2), "peak_rss_mb": round(rss, 1)}


def snapshot_time(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = open_workspace(Path(tmp) / ".contexta")
        store = ctx.record_store
        for first in range(0, n, 1000):
            store.append_many([make_record(i) for i in range(first, min(n, first + 1000))])
        store.flush()
        ctx.close()
        import contexta.interpretation  # noqa: F401  (module import is not part of a snapshot)

        fresh = Contexta(config=_config(Path(tmp) / ".contexta"))
        with Clock() as first:
            snap = fresh.get_run_snapshot(RUN)
        with Clock() as second:
            fresh.get_run_snapshot(RUN)
        fresh.close()
    return {
        "records_in_run": len(snap.records),
        "snapshot_s": round(first.wall, 3),
        "snapshot_cpu_s": round(first.cpu, 3),
        "again_s": round(second.wall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--snapshot", type=int, default=100_000)
    parser.add_argument("--child", choices=["big", "snapshot"])
    args = parser.parse_args()
    if args.child == "big":
        print(json.dumps(big_ingest(args.big)))
        return
    if args.child == "snapshot":
        print(json.dumps(snapshot_time(args.snapshot)))
        return
    phases = {"a": baseline, "b": one_at_a_time, "c": batched}
    runs: dict[str, list[Clock]] = {name: [] for name in phases}
    for rep in range(args.repeat):
        for name, phase in phases.items():
            with tempfile.TemporaryDirectory() as tmp_name:
                runs[name].append(phase(args.records, Path(tmp_name) / f"r{rep}"))
    report(args.records, runs)
    for child, count in (("big", args.big), ("snapshot", args.snapshot)):
        if count <= 0:
            continue
        if child == "snapshot" and importlib.util.find_spec("contexta.interpretation") is None:
            print("snapshot                     skipped: contexta.interpretation is missing")
            continue
        command = [sys.executable, __file__, "--child", child]
        command += ["--big", str(args.big), "--snapshot", str(args.snapshot)]
        out = subprocess.run(command, check=True, capture_output=True, text=True)
        print(f"{child:28s} {out.stdout.strip()}")


def report(n: int, runs: dict[str, list[Clock]]) -> None:
    """Print the best run of each phase, by wall clock and by CPU time, against (a)."""
    labels = {
        "a": "(a) raw executemany baseline",
        "b": "(b) append one at a time    ",
        "c": "(c) append_many x1000       ",
    }
    targets = {
        "a": "",
        "b": "target 20% (objects built in the loop)",
        "c": "target 50% (objects built before timing)",
    }
    best = {
        name: (n / min(c.wall for c in clocks), n / min(c.cpu for c in clocks))
        for name, clocks in runs.items()
    }
    base_wall, base_cpu = best["a"]
    print(f"records per phase {n}, best of {len(runs['a'])} interleaved runs; records/s")
    print(f"{'':28s} {'wall':>9s} {'of (a)':>7s} {'cpu':>9s} {'of (a)':>7s}")
    for name, (wall, cpu) in best.items():
        print(
            f"{labels[name]} {wall:9.0f} {wall / base_wall:7.1%} "
            f"{cpu:9.0f} {cpu / base_cpu:7.1%}  {targets[name]}"
        )
    for name, clocks in runs.items():
        walls = " ".join(f"{n / c.wall:.0f}" for c in clocks)
        cpus = " ".join(f"{n / c.cpu:.0f}" for c in clocks)
        print(f"    every run of ({name}): wall {walls}; cpu {cpus}")


if __name__ == "__main__":
    main()
