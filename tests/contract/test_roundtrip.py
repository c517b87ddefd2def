"""Every model survives ``to_json`` → ``deserialize_*`` exactly (contract.md §3.8)."""

from __future__ import annotations

import json
import math
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import MODEL_STRATEGIES

import contexta.contract as contract
from contexta.contract import (
    MetricPayload,
    TraceSpanPayload,
    deserialize_metric_payload,
    deserialize_trace_span_payload,
    to_json,
    to_payload,
)
from contexta.errors import SerializationError


@pytest.mark.parametrize("name", sorted(MODEL_STRATEGIES))
@settings(max_examples=30)
@given(data=st.data())
def test_every_model_round_trips_through_json(name: str, data: st.DataObject) -> None:
    model = data.draw(MODEL_STRATEGIES[name])
    read = getattr(contract, f"deserialize_{name}")
    text = to_json(model)
    again = read(text)
    assert again == model
    assert hash(again) == hash(model)
    assert to_json(again) == text
    # The mapping form reads back too, and to_dict() is to_payload().
    assert read(to_payload(model)) == model
    assert model.to_dict() == to_payload(model)
    # to_json pastes escape-free strings itself; it must equal the canonical dump.
    canonical = json.dumps(
        to_payload(model),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    assert text == canonical
    clone = pickle.loads(pickle.dumps(model))
    assert type(clone) is type(model)
    assert to_json(clone) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(math.nan, '"NaN"'), (math.inf, '"Infinity"'), (-math.inf, '"-Infinity"')],
)
def test_non_finite_metric_values_round_trip_exactly(value: float, text: str) -> None:
    payload = MetricPayload(metric_key="loss", value=value, value_type="float64")
    dumped = to_json(payload)
    assert f'"value":{text}' in dumped
    back = deserialize_metric_payload(dumped)
    assert back == payload
    if math.isnan(value):
        assert math.isnan(back.value)
    else:
        assert back.value == value


@pytest.mark.parametrize("value", [-0.0, 5e-324, 2.2250738585072014e-308, 1e308])
def test_negative_zero_and_subnormals_round_trip_bit_exactly(value: float) -> None:
    payload = MetricPayload(metric_key="x", value=value, value_type="float32")
    back = deserialize_metric_payload(to_json(payload))
    assert math.copysign(1.0, back.value) == math.copysign(1.0, value)
    assert back.value.hex() == value.hex()
    if value == 0.0:  # -0.0 is a different metric value than 0.0
        assert MetricPayload(metric_key="x", value=0.0, value_type="float32") != payload


def test_root_span_round_trips_with_none_parent() -> None:
    span = TraceSpanPayload(
        "s1", "t1", None, "load", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.25Z", "ok", "io"
    )
    text = to_json(span)
    assert '"parent_span_id":null' in text
    back = deserialize_trace_span_payload(text)
    assert back.parent_span_id is None
    assert back == span
    assert back.duration_ms == 250.0


def test_big_step_is_kept_as_exact_int() -> None:
    payload = MetricPayload(metric_key="s", value=1, value_type="int", step=2**63 - 1)
    back = deserialize_metric_payload(to_json(payload))
    assert back.step == 2**63 - 1
    assert type(back.step) is int
    assert type(back.value) is int


def test_unicode_names_are_kept_exactly() -> None:
    run = contract.Run(
        run_ref="run:p.r",
        project_ref="project:p",
        name="학습 ✓ Données",
        status="open",
        started_at="2025-01-01T00:00:00Z",
    )
    text = to_json(run)
    assert "학습 ✓ Données" in text  # ensure_ascii=False
    assert contract.deserialize_run(text).name == "학습 ✓ Données"


def test_to_payload_and_to_json_of_containers() -> None:
    ref = contract.StableRef.parse("run:p.r")
    span = TraceSpanPayload("s", "t", None, "w", "2025-01-01Z", "2025-01-01Z", "ok", "io")
    payload = to_payload({"z": [ref, span], "a": (1, None)})
    assert payload == {"z": ["run:p.r", span.to_dict()], "a": [1, None]}
    assert to_json({"z": ref, "a": 1}) == '{"a":1,"z":"run:p.r"}'
    with pytest.raises(SerializationError):
        to_json({"x": {1, 2}})
    with pytest.raises(SerializationError):
        to_json(math.nan)


def test_deserialize_accepts_bytes() -> None:
    span = TraceSpanPayload("s", "t", None, "w", "2025-01-01Z", "2025-01-01Z", "ok", "io")
    assert deserialize_trace_span_payload(to_json(span).encode()) == span
