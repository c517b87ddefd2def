"""Cost of building and serializing one metric record (the record store's hot loop).

Targets (contract task): build <= 15 µs per record with a fresh record_ref, ``to_json``
<= 10 µs. Run: ``.venv/bin/python bench/contract_speed.py``. Each figure is the best of many
short loops, which keeps it meaningful on a shared 2-core machine.
"""

from __future__ import annotations

import time

from contexta.contract import (
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    deserialize_metric_record,
    to_json,
)

N = 20_000


def build(i: int) -> MetricRecord:
    return MetricRecord(
        envelope=RecordEnvelope(
            record_ref=f"record:p.n1.r{i}",
            record_type="metric",
            recorded_at="2025-01-01T01:00:00Z",
            observed_at="2025-01-01T01:00:00Z",
            producer_ref="bench",
            run_ref="run:p.n1",
            stage_execution_ref="stage:p.n1.fe",
            batch_execution_ref="batch:p.n1.fe.b0",
            completeness_marker="complete",
            degradation_marker="none",
        ),
        payload=MetricPayload(metric_key="m1", value=1.0, value_type="float64"),
    )


def best_of(label: str, fn, repeat: int = 25) -> float:
    """Best wall time and best CPU time of ``repeat`` loops; returns CPU µs per record.

    CPU time (``time.process_time``) leaves out the time this process waits for a core,
    so the figure stays meaningful when other jobs share the machine.
    """
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    per_cpu, per_wall = best_cpu / N * 1e6, best_wall / N * 1e6
    print(f"{label:<40} {per_cpu:7.2f} µs/record CPU  {per_wall:7.2f} µs wall")
    return per_cpu


def main() -> None:
    build(-1)  # warm caches for the shared refs and timestamps
    counter = iter(range(10**9))

    def build_loop() -> None:
        base = next(counter) * N
        for i in range(base, base + N):
            build(i)

    records = [build(i) for i in range(N)]
    texts = [to_json(r) for r in records]

    def json_loop() -> None:
        for r in records:
            to_json(r)

    def read_loop() -> None:
        for t in texts:
            deserialize_metric_record(t)

    build_us = best_of("build MetricRecord (fresh record_ref)", build_loop)
    json_us = best_of("to_json(record)", json_loop)
    best_of("deserialize_metric_record(text)", read_loop, repeat=10)
    print(
        f"targets: build <= 15 µs ({'ok' if build_us <= 15 else 'MISSED'}), "
        f"to_json <= 10 µs ({'ok' if json_us <= 10 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
