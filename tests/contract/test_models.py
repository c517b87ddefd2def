"""Model shape, normalization, equality and metric-value rules (contract.md §3.1, §3.6, §3.7)."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pytest

import contexta.contract as contract
from contexta.contract import (
    CorrelationRefs,
    MetricPayload,
    MetricRecord,
    RecordEnvelope,
    Run,
    StableRef,
    TraceSpanPayload,
    to_json,
)
from contexta.errors import ContractError

CONTRACT_MD = Path("/work/shared/docs/contract.md")
T0 = "2025-01-01T00:00:00Z"


def _run(**kw: object) -> Run:
    base: dict[str, object] = {
        "run_ref": "run:p.r",
        "project_ref": "project:p",
        "name": "nightly",
        "status": "open",
        "started_at": T0,
    }
    return Run(**{**base, **kw})  # type: ignore[arg-type]


def test_all_matches_contract_section_2_3() -> None:
    if not CONTRACT_MD.exists():
        pytest.skip("contract.md not available")
    text = CONTRACT_MD.read_text(encoding="utf-8")
    section = text.split("### 2.3 `contexta.contract`")[1].split("### 2.4")[0]
    names = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", row.split("|")[1]))
    assert set(contract.__all__) == names
    assert len(contract.__all__) == len(set(contract.__all__))
    for name in contract.__all__:
        assert not name.startswith("_")
        assert hasattr(contract, name)


def test_models_are_frozen_slotted_dataclasses() -> None:
    run = _run()
    assert dataclasses.is_dataclass(run)
    assert not hasattr(run, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.name = "x"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Run)][:9] == [
        "run_ref",
        "project_ref",
        "name",
        "status",
        "started_at",
        "ended_at",
        "description",
        "schema_version",
        "extensions",
    ]


def test_positional_construction_follows_field_order() -> None:
    span = TraceSpanPayload("s", "t", "parent", "work", T0, T0, "ok", "internal")
    assert span.parent_span_id == "parent"
    with pytest.raises(TypeError):
        TraceSpanPayload("s", "t", "work", T0, T0, "ok", "internal")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _run(colour="red")


def test_normalization() -> None:
    run = _run(tags=None, metadata={"b": [1, (2, 3)], "a": {"z": 1, "y": float("nan")}})
    assert isinstance(run.run_ref, StableRef)
    assert dict(run.tags) == {}
    assert list(run.metadata) == ["a", "b"]
    assert run.metadata["b"] == (1, (2, 3))
    assert run.metadata["a"]["y"] == "NaN"
    with pytest.raises(TypeError):
        run.metadata["c"] = 1  # type: ignore[index]
    assert run.to_dict()["metadata"] == {"a": {"y": "NaN", "z": 1}, "b": [1, [2, 3]]}


def test_json_depth_limit() -> None:
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    with pytest.raises(ContractError) as info:
        _run(metadata={"x": deep})
    assert info.value.code == "context_invalid_string"


def test_names_are_stored_exactly() -> None:
    assert _run(name=" Ünïcode  name ").name == " Ünïcode  name "


def test_equality_and_hash_follow_canonical_json() -> None:
    a = _run(tags={"x": "1", "a": "2"})
    b = _run(tags={"a": "2", "x": "1"}, started_at="2025-01-01T09:00:00+09:00")
    assert a == b
    assert hash(a) == hash(b)
    assert a != _run(name="other")
    assert a != "run:p.r"
    flag = _run(metadata={"v": True})
    one = _run(metadata={"v": 1})
    assert flag != one  # True and 1 serialize differently


def test_replace_revalidates() -> None:
    run = _run()
    done = dataclasses.replace(run, status="completed", ended_at="2025-01-02T00:00:00Z")
    assert done.status == "completed"
    with pytest.raises(ContractError):
        dataclasses.replace(run, status="completed")


def test_envelope_defaults() -> None:
    env = RecordEnvelope(
        record_ref="record:p.r.x",
        record_type="event",
        recorded_at=T0,
        observed_at=T0,
        producer_ref="p",
        run_ref="run:p.r",
    )
    assert env.correlation_refs == CorrelationRefs()
    assert env.completeness_marker == "complete"
    assert env.degradation_marker == "none"
    assert env.schema_version == "1.0.0"
    assert env.extensions == ()


@pytest.mark.parametrize(
    ("value", "value_type", "stored"),
    [
        (1, "float64", 1.0),
        (np.float32(0.5), "float32", 0.5),
        (np.int64(7), "int64", 7),
        (np.uint8(255), "uint8", 255),
        (2**64 - 1, "uint64", 2**64 - 1),
        (-(2**63), "int", -(2**63)),
        (127, "int8", 127),
        (10**300, "float", 1e300),
    ],
)
def test_metric_values_are_plain_numbers(value: object, value_type: str, stored: object) -> None:
    payload = MetricPayload(metric_key="m", value=value, value_type=value_type)  # type: ignore[arg-type]
    assert payload.value == stored
    assert type(payload.value) is type(stored)


@pytest.mark.parametrize(("value", "value_type"), [(128, "int8"), (np.bool_(True), "float64")])
def test_metric_value_rejections(value: object, value_type: str) -> None:
    with pytest.raises(ContractError) as info:
        MetricPayload(metric_key="m", value=value, value_type=value_type)  # type: ignore[arg-type]
    assert info.value.code == "record_invalid_metric_value"


def test_numpy_step_is_converted() -> None:
    assert (
        type(MetricPayload(metric_key="m", value=1.0, value_type="float", step=np.int64(3)).step)
        is int
    )


def test_nan_metric_models_are_equal() -> None:
    a = MetricPayload(metric_key="m", value=math.nan, value_type="float64")
    b = MetricPayload(metric_key="m", value=float("nan"), value_type="float64")
    assert a == b
    assert hash(a) == hash(b)


def test_span_duration_compares_instants() -> None:
    span = TraceSpanPayload(
        "s", "t", None, "w", "2025-01-01T09:00:00+09:00", "2025-01-01T00:00:01.5Z", "ok", "io"
    )
    assert span.duration_ms == 1500.0


def test_seed_style_record_builds() -> None:
    record = MetricRecord(
        envelope=RecordEnvelope(
            record_ref="record:retail.etl-night-01.r00001",
            record_type="metric",
            recorded_at="2025-04-01T01:30:00Z",
            observed_at="2025-04-01T01:30:00Z",
            producer_ref="contexta.case07",
            run_ref="run:retail.etl-night-01",
            stage_execution_ref="stage:retail.etl-night-01.feature-engineering",
            batch_execution_ref="batch:retail.etl-night-01.feature-engineering.batch-night-01",
            completeness_marker="complete",
            degradation_marker="none",
        ),
        payload=MetricPayload(metric_key="rows-processed", value=118200.0, value_type="float64"),
    )
    assert '"value":118200.0' in to_json(record)
