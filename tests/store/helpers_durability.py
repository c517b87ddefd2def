"""Child-process workloads for the durability, concurrency and damage tests.

The tests run these in real processes: through ``multiprocessing``'s
``forkserver`` context (a clean interpreter that imported contexta once, so a
child costs milliseconds instead of a second of imports; no pytest state and
no threads are inherited) or as a script (``python helpers_durability.py
verify <root>``) when a completely fresh interpreter must open the workspace.
Children report to the parent through a pipe right after each call returns;
each message is one small ``send`` (one atomic pipe write), so a SIGKILL never
leaves half a message behind.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig
from contexta.contract import (
    MetricPayload,
    MetricRecord,
    Project,
    RecordEnvelope,
    Run,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
)
from contexta.store.records import ScanFilter

__all__ = [
    "PROJECT",
    "TS",
    "event",
    "metric",
    "open_ctx",
    "prepare_run",
    "run_child",
    "start",
    "verify",
]

PROJECT = "project:dur"
TS = "2025-01-01T00:00:00Z"


def open_ctx(root: str | Path, **records: Any) -> Contexta:
    """A facade on the workspace at ``root`` (``records`` overrides the record config)."""
    config = UnifiedConfig(project_name="dur", workspace=WorkspaceConfig(root_path=Path(root)))
    if records:
        import dataclasses

        config = dataclasses.replace(
            config, records=dataclasses.replace(config.records, **records)
        )
    return Contexta(config=config)


def prepare_run(ctx: Contexta, run_ref: str, *, stage: bool = False) -> None:
    """Put the project (idempotent), the run and optionally stage ``s0``."""
    ms = ctx.metadata_store
    ms.projects.put_project(Project(project_ref=PROJECT, name="dur", created_at=TS))
    ms.runs.put_run(
        Run(run_ref=run_ref, project_ref=PROJECT, name=run_ref[4:], status="open", started_at=TS)
    )
    if stage:
        ms.stages.put_stage_execution(_stage(run_ref))


def _stage(run_ref: str) -> StageExecution:
    return StageExecution(
        stage_execution_ref=f"stage:{run_ref[4:]}.s0",
        run_ref=run_ref,
        stage_name="s0",
        status="open",
        started_at=TS,
    )


def _envelope(run_ref: str, ident: str, record_type: str) -> RecordEnvelope:
    return RecordEnvelope(
        record_ref=f"record:{run_ref[4:]}.{ident}",
        record_type=record_type,
        recorded_at=TS,
        observed_at=TS,
        producer_ref="dur",
        run_ref=run_ref,
    )


def metric(run_ref: str, ident: str, value: float = 1.0, *, step: int = 0) -> MetricRecord:
    return MetricRecord(
        envelope=_envelope(run_ref, ident, "metric"),
        payload=MetricPayload(metric_key="loss", value=value, value_type="float64", step=step),
    )


def event(run_ref: str, ident: str, message: str = "hello") -> StructuredEventRecord:
    return StructuredEventRecord(
        envelope=_envelope(run_ref, ident, "event"),
        payload=StructuredEventPayload(event_key="tick", level="info", message=message),
    )


# -- child entry point ----------------------------------------------------------

_PRELOAD = ["contexta.api", "contexta.store.records", "contexta.store.metadata", __name__]


def start(name: str, *args: Any) -> tuple[Any, Any]:
    """Start workload ``name`` in a fresh process; return (process, parent end of the pipe)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    parent, child = context.Pipe()
    process = context.Process(target=run_child, args=(name, child, *args), daemon=True)
    process.start()
    child.close()
    return process, parent



def run_child(name: str, conn: Any, *args: Any) -> None:
    """Run workload ``name``; report an exception through the pipe instead of dying silently."""
    try:
        _WORKLOADS[name](conn, *args)
    except BaseException:
        conn.send(("error", traceback.format_exc()[-3000:]))
        raise
    finally:
        conn.close()


def _kill_target(conn: Any, root: str, round_no: int, seed: int) -> None:
    """Write runs, stages and records forever (until killed), acknowledging each call.

    Messages: ("run"|"stage", ref), ("rec", ref) after ``append``, ("intent", refs)
    before and ("recs", refs) after ``append_many``.
    """
    rng = random.Random(seed)
    ctx = open_ctx(root)
    ms = ctx.metadata_store
    store = ctx.record_store
    ms.projects.put_project(Project(project_ref=PROJECT, name="dur", created_at=TS))
    for j in itertools.count():
        run_ref = f"run:dur.k{round_no}x{j}"
        ms.runs.put_run(
            Run(run_ref=run_ref, project_ref=PROJECT, name=f"k{j}", status="open", started_at=TS)
        )
        conn.send(("run", run_ref))
        ms.stages.put_stage_execution(_stage(run_ref))
        conn.send(("stage", f"stage:{run_ref[4:]}.s0"))
        for op in range(rng.randint(3, 12)):
            ident = f"o{op}"
            if rng.random() < 0.5:
                record = metric(run_ref, ident, rng.random(), step=op)
                store.append(record)
                conn.send(("rec", str(record.envelope.record_ref)))
            else:
                size = rng.choice((2, 10, 40, 60))
                batch = [
                    event(run_ref, f"{ident}n{n}", "x" * rng.randint(1, 400))
                    if n % 3
                    else metric(run_ref, f"{ident}n{n}", float(n), step=n)
                    for n in range(size)
                ]
                refs = [str(r.envelope.record_ref) for r in batch]
                conn.send(("intent", refs))
                store.append_many(batch)
                conn.send(("recs", refs))
            if rng.random() < 0.1:
                store.flush()


def _append_target(conn: Any, root: str, writer: int, count: int, run_ref: str) -> None:
    """``count`` one-at-a-time appends; report the receipts' (ref, sequence) per 1,000."""
    ctx = open_ctx(root)
    store = ctx.record_store
    conn.send(("ready", writer))
    out: list[tuple[str, int]] = []
    for i in range(count):
        result = store.append(metric(run_ref, f"w{writer}n{i}", float(i), step=i))
        receipt = result.accepted[0]
        out.append((receipt.record_ref, receipt.sequence))
        if len(out) == 100:
            conn.send(("acks", out))
            out = []
    if out:
        conn.send(("acks", out))
    ctx.close()
    conn.send(("done", writer))


def _reader_target(conn: Any, root: str, run_ref: str, stop_after: int) -> None:
    """Count and scan in a loop until ``stop_after`` records are visible (or 120 s)."""
    ctx = open_ctx(root)
    store = ctx.record_store
    last = 0
    loops = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        loops += 1
        count = store.count_records()
        if count < last:
            conn.send(("error", f"count went backwards: {last} -> {count}"))
            return
        last = count
        seen = list(itertools.islice(store.scan(ScanFilter(run_ref=run_ref)), 300))
        seqs = [item.sequence for item in seen]
        if seqs != sorted(set(seqs)):
            conn.send(("error", f"scan returned sequences out of order: {seqs[:20]}"))
            return
        if count >= stop_after:
            break
    conn.send(("reader", {"loops": loops, "last": last}))
    ctx.close()


def _metadata_target(conn: Any, root: str, writer: int, runs: int) -> None:
    """Put ``runs`` runs, each with two stages; acknowledge every put."""
    ctx = open_ctx(root)
    ms = ctx.metadata_store
    ms.projects.put_project(Project(project_ref=PROJECT, name="dur", created_at=TS))
    for j in range(runs):
        run_ref = f"run:dur.m{writer}x{j}"
        ms.runs.put_run(
            Run(run_ref=run_ref, project_ref=PROJECT, name=f"m{j}", status="open", started_at=TS)
        )
        for name in ("s0", "s1"):
            ms.stages.put_stage_execution(
                StageExecution(
                    stage_execution_ref=f"stage:{run_ref[4:]}.{name}",
                    run_ref=run_ref,
                    stage_name=name,
                    status="open",
                    started_at=TS,
                )
            )
        conn.send(("run", run_ref))
    ctx.close()
    conn.send(("done", writer))


def _visibility_target(conn: Any, root: str, run_ref: str, count: int) -> None:
    """Append ``count`` records (no flush), report, then wait for commands.

    Commands: ("append", ident) appends one more and reports; ("flush",) and
    ("stop",) do what they say. The process never closes the store on its own.
    """
    ctx = open_ctx(root)
    store = ctx.record_store
    for i in range(count):
        store.append(metric(run_ref, f"v{i}", float(i), step=i))
    conn.send(("appended", count))
    while True:
        command = conn.recv()
        if command[0] == "append":
            store.append(metric(run_ref, command[1]))
            conn.send(("appended", command[1]))
        elif command[0] == "flush":
            store.flush()
            conn.send(("flushed",))
        else:
            conn.send(("stopping",))
            return


_WORKLOADS: dict[str, Callable[..., None]] = {
    "kill": _kill_target,
    "append": _append_target,
    "reader": _reader_target,
    "metadata": _metadata_target,
    "visibility": _visibility_target,
}


# -- verification in a fresh interpreter -----------------------------------------


def verify(root: str) -> dict[str, Any]:
    """Open the workspace and report everything it holds, as plain JSON data."""
    ctx = open_ctx(root)
    try:
        store = ctx.record_store
        ms = ctx.metadata_store
        scanned = [(item.record_ref, item.sequence) for item in store.scan()]
        record_report = store.check_integrity()
        metadata_report = ms.check_integrity()
        runs = [str(run.run_ref) for run in ms.runs.list_runs()]
        stages = [
            str(stage.stage_execution_ref)
            for run_ref in runs
            for stage in ms.stages.list_stage_executions(run_ref)
        ]
        return {
            "refs": [ref for ref, _ in scanned],
            "seqs": [seq for _, seq in scanned],
            "count": store.count_records(),
            "record_issues": [[i.severity, i.code] for i in record_report.issues],
            "record_count": record_report.record_count,
            "metadata_ok": metadata_report.ok,
            "metadata_issues": [str(i.code) for i in metadata_report.issues],
            "runs": runs,
            "stages": stages,
        }
    finally:
        ctx.close()


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        sys.stdout.write(json.dumps(verify(sys.argv[2])) + "\n")
