"""Snapshots read hot columns first and the rest on demand: nothing a reader sees changes.

The oracle is the full path: every stored column plus the record JSON
(``RecordStore.iter_rows``) projected by ``observation_from_row``.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import threading

import pytest
from tests.interpret.builders import Builder, StoreTarget

from contexta.contract import (
    CorrelationRefs,
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    StructuredEventPayload,
    StructuredEventRecord,
)
from contexta.errors import ContextaError, StoreAccessError
from contexta.interpret import record_details
from contexta.interpret.projection import observation_from_row
from contexta.interpret.read_models import LAZY_OBSERVATION_FIELDS, ObservationRecord
from contexta.interpret.snapshot import build_bundle
from contexta.interpretation import CompositeStoreRepository, QueryService
from contexta.store.records import indexer


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


def _assert_same_record(got: ObservationRecord, want: ObservationRecord) -> None:
    assert type(got) is ObservationRecord
    for field in dataclasses.fields(ObservationRecord):
        assert _same(getattr(got, field.name), getattr(want, field.name)), field.name


def _envelope(run: str, n: int, kind: str, **extra: object) -> RecordEnvelope:
    fields: dict[str, object] = {
        "record_ref": f"record:{run[4:]}.x{n:04d}",
        "record_type": kind,
        "recorded_at": "2025-04-01T02:00:05Z",
        "observed_at": "2025-04-01T02:00:00Z",
        "producer_ref": "lazy-tests",
        "run_ref": run,
        "completeness_marker": "complete",
        "degradation_marker": "none",
    }
    fields.update(extra)
    return RecordEnvelope(**fields)  # type: ignore[arg-type]


@pytest.fixture
def diverse(ctx):
    """A run holding every record family and every kind of stored value."""
    b = Builder(StoreTarget(ctx), "proj")
    run = b.run("mixed")
    stage = b.stage(run, "fe")
    batch = b.batch(stage, "b0")
    sample = b.sample(stage, "s0")
    op = b.operation(stage, "load")
    b.metric(run, "loss", 0.5, stage=stage, batch=batch, step=3, unit="nats", tags={"k": "v"})
    b.metric(run, "rows", 7, stage=stage, sample=sample, operation=op)
    for name, value in (("nan", math.nan), ("up", math.inf), ("down", -math.inf)):
        b.metric(run, name, value, stage=stage, deployment="deployment:proj.ghost")
    b.event(run, "etl.done", message="ok", level="error", attributes={"tags": {"a": "b"}})
    b.span(run, "load", started="2025-04-01T01:00:00Z", ended="2025-04-01T01:00:01.500000Z")
    b.degraded(run, "etl.gap", severity="error", summary="lost rows", stage=stage)
    store = ctx.record_store
    store.append(
        MetricRecord(
            envelope=_envelope(run, 1, "metric", correlation_refs=CorrelationRefs(trace_id="t9")),
            payload=MetricPayload(metric_key="late", value=1.5, value_type="float64"),
        )
    )
    store.append(
        MetricRecord(
            envelope=_envelope(run, 3, "metric", stage_execution_ref=stage),
            payload=MetricPayload(metric_key="huge", value=2**64 - 1, value_type="uint64"),
        )
    )
    store.append(
        StructuredEventRecord(
            envelope=_envelope(run, 2, "event", completeness_marker="partial"),
            payload=StructuredEventPayload(event_key="odd", level="warning", message="m"),
        )
    )
    qs = QueryService(CompositeStoreRepository(ctx.metadata_store, store, ctx.artifact_store))
    return qs, run


def _oracle(ctx, run: str) -> list[ObservationRecord]:
    return [observation_from_row(row) for row in ctx.record_store.iter_rows(run_refs=[run])]


def test_snapshot_records_match_the_full_projection(ctx, diverse):
    qs, run = diverse
    records = qs.get_run_snapshot(run).records
    want = _oracle(ctx, run)
    assert isinstance(records, tuple)
    assert len(records) == len(want) == 11
    for got, expected in zip(records, want, strict=True):
        _assert_same_record(got, expected)
    by_key = {r.key: r for r in records}
    assert by_key["huge"].value == 2**64 - 1
    assert type(by_key["rows"].value) is int
    assert by_key["late"].recorded_at == "2025-04-01T02:00:05Z"
    assert by_key["late"].correlation_id == "t9"
    assert by_key["odd"].completeness_marker == "partial"
    assert by_key["load"].value == 1500.0


def test_each_lazy_group_loads_on_its_own_first_access(ctx, diverse):
    qs, run = diverse
    record = qs.get_run_snapshot(run).records[0]
    unset = [name for name in LAZY_OBSERVATION_FIELDS if name not in _set_slots(record)]
    assert sorted(unset) == sorted(LAZY_OBSERVATION_FIELDS)
    assert record.producer_ref == "tests"
    assert "recorded_at" in _set_slots(record)
    assert "payload" not in _set_slots(record)
    assert record.payload["metric_key"] == "loss"
    assert "unit" in _set_slots(record)


def _set_slots(record: ObservationRecord) -> set[str]:
    names = set()
    for name in ObservationRecord.__slots__:
        try:
            object.__getattribute__(record, name)
        except AttributeError:
            continue
        names.add(name)
    return names


def test_diagnostics_rows_are_the_stored_rows(ctx, diverse):
    qs, run = diverse
    state = qs.read_state()
    bundle = build_bundle(state, state.resolve_run(run))
    stored = list(ctx.record_store.iter_rows(run_refs=[run]))
    assert len(bundle.rows) == len(stored)
    for got, want in zip(bundle.rows, stored, strict=True):
        assert len(got) == len(want)
        for field, a, b in zip(want._fields, got, want, strict=True):
            assert _same(a, b), field
    assert bundle.rows is bundle.rows  # built once


def test_lazy_fields_still_load_after_the_workspace_is_closed(ctx, diverse):
    qs, run = diverse
    records = qs.get_run_snapshot(run).records
    ctx.close()
    assert records[-1].message == "m"
    assert records[-1].degradation_marker == "none"
    clone = pickle.loads(pickle.dumps(records[0]))
    assert clone == records[0]


def test_a_snapshot_outliving_its_workspace_says_so(ctx, diverse, tmp_path):
    qs, run = diverse
    records = qs.get_run_snapshot(run).records
    ctx.close()
    for path in sorted(tmp_path.rglob("*"), reverse=True):
        if path.is_file():
            path.unlink()
    with pytest.raises(ContextaError):
        _ = records[0].payload


def test_big_fetches_load_details_in_chunks(ctx, monkeypatch):
    """Past ``_WHOLE`` records, details come a chunk of one run at a time, kept in an LRU."""
    monkeypatch.setattr(record_details, "_WHOLE", 5)
    monkeypatch.setattr(record_details, "_CHUNK", 4)
    monkeypatch.setattr(record_details, "_KEEP_CHUNKS", 2)
    b = Builder(StoreTarget(ctx), "proj")
    runs = [b.run(f"r{n}") for n in range(2)]
    for n in range(30):
        b.metric(runs[n % 2], f"m{n}", float(n), step=n)
    qs = QueryService(CompositeStoreRepository(ctx.metadata_store, ctx.record_store, None))
    for run in runs:
        records = qs.get_run_snapshot(run).records
        want = _oracle(ctx, run)
        for got, expected in zip(reversed(records), reversed(want), strict=True):
            _assert_same_record(got, expected)
        state = qs.read_state()
        rows = build_bundle(state, state.resolve_run(run)).rows
        assert [row.record_json for row in rows] == [
            row.record_json for row in ctx.record_store.iter_rows(run_refs=[run])
        ]


def test_a_run_list_walk_shares_one_fetch_and_matches_single_reads(ctx):
    b = Builder(StoreTarget(ctx), "proj")
    runs = [b.run(f"w{n}", started=f"2025-04-0{n + 1}T01:00:00Z") for n in range(6)]
    for n, run in enumerate(runs):
        for m in range(3):
            b.metric(run, f"m{m}", float(n * 10 + m))
        b.degraded(run, "etl.gap")
    qs = QueryService(CompositeStoreRepository(ctx.metadata_store, ctx.record_store, None))
    walked = {r.run_id: qs.get_run_snapshot(r.run_id) for r in qs.list_runs("proj")}
    assert list(walked) == runs
    for run in runs:
        for got, want in zip(walked[run].records, _oracle(ctx, run), strict=True):
            _assert_same_record(got, want)


def test_records_not_yet_indexed_are_read_from_memory(ctx, diverse, monkeypatch):
    qs, run = diverse

    def failing(*args: object, **kwargs: object) -> int:
        msg = "injected: the database refuses writes"
        raise StoreAccessError(msg, code="store_io_error")

    b = Builder(StoreTarget(ctx), "proj", id_start=900)
    monkeypatch.setattr(indexer, "insert_rows", failing)
    ref = b.metric(run, "pending", 4.0, unit="u")
    records = qs.get_run_snapshot(run).records
    assert records[-1].record_id == ref
    assert (records[-1].value, records[-1].unit, records[-1].producer_ref) == (4.0, "u", "tests")
    monkeypatch.undo()
    ctx.record_store.flush()
    assert qs.get_run_snapshot(run).records[-1].record_id == ref


def test_lazy_fields_fill_consistently_from_many_threads(ctx, diverse):
    qs, run = diverse
    records = qs.get_run_snapshot(run).records
    seen: list[list[object]] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            seen.append([(r.payload, r.recorded_at, r.tags) for r in records])
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(found == seen[0] for found in seen)
