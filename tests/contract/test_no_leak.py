"""No-leak rule (contract.md §12.2): arbitrary input yields only ContextaError.

Every model constructor, the ref parser, the timestamp normalizer, the slug rule, the
serializers and every ``deserialize_*`` are fed arbitrary values; anything other than a
``ContextaError`` (or success) fails the test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fractions
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import MODEL_STRATEGIES, json_values

import contexta.contract as contract
from contexta.contract import StableRef, to_json, to_payload
from contexta.contract.refs import slugify
from contexta.contract.timestamps import normalize_timestamp, parse_timestamp, timestamp_to_micros
from contexta.errors import ContextaError


class _Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class _BadIndex:
    def __index__(self) -> int:
        raise RuntimeError("boom")


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**130), max_value=2**130),
    st.just(10**5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.text(max_size=5)),
    st.sets(st.integers(), max_size=3),
    st.dictionaries(st.one_of(st.text(max_size=5), st.integers()), st.integers(), max_size=3),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.dates(),
    st.decimals(allow_nan=True),
    st.fractions(),
    st.complex_numbers(),
    st.just(_Opaque()),
    st.just(_BadIndex()),
    st.just(np.int64(3)),
    st.just(np.float32(1.5)),
    st.just(np.bool_(True)),
    st.just(np.array([1, 2])),
    st.just(StableRef.parse("run:p.r")),
    st.just(dt.timedelta(seconds=1)),
    st.sampled_from(
        [
            "run:p.r",
            "stage:p.r.s",
            "2025-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "open",
            "float64",
            "int8",
            "NaN",
            "a..b",
            "",
            " ",
        ]
    ),
)

_MODELS = {
    name: getattr(contract, "".join(p.title() for p in name.split("_")))
    for name in MODEL_STRATEGIES
    if name != "extension_field_set"
}
_MODELS["extension_field_set"] = contract.ExtensionFieldSet


@pytest.mark.parametrize("name", sorted(_MODELS))
@settings(max_examples=20)
@given(data=st.data())
def test_constructors_raise_only_contexta_errors(name: str, data: st.DataObject) -> None:
    cls = _MODELS[name]
    valid = data.draw(MODEL_STRATEGIES[name])
    kwargs: dict[str, Any] = {f.name: getattr(valid, f.name) for f in dataclasses.fields(cls)}
    broken = data.draw(st.lists(st.sampled_from(sorted(kwargs)), min_size=1, max_size=3))
    for field in broken:
        kwargs[field] = data.draw(anything, label=field)
    try:
        model = cls(**kwargs)
    except ContextaError:
        return
    # Whatever was accepted serializes and reads back.
    read = getattr(contract, f"deserialize_{name}")
    assert read(to_json(model)) == model


@settings(max_examples=150)
@given(value=anything)
def test_parsers_raise_only_contexta_errors(value: object) -> None:
    for fn in (StableRef.parse, normalize_timestamp, parse_timestamp, timestamp_to_micros):
        try:
            fn(value)  # type: ignore[operator]
        except ContextaError:
            pass
    try:
        slug = slugify(value)  # type: ignore[arg-type]
    except ContextaError:
        pass
    else:
        assert StableRef.parse(f"x:{slug}").value == slug


@settings(max_examples=60)
@given(text=st.text(max_size=200))
def test_slugify_always_gives_a_component(text: str) -> None:
    slug = slugify(text)
    assert 1 <= len(slug) <= 63
    assert StableRef.parse(f"x:{slug}").components == (slug,)


@pytest.mark.parametrize("name", sorted(MODEL_STRATEGIES))
@settings(max_examples=10)
@given(
    doc=st.one_of(
        st.dictionaries(st.text(max_size=12), json_values, max_size=6),
        json_values,
        st.text(max_size=40),
        st.binary(max_size=20),
    )
)
def test_deserializers_raise_only_contexta_errors(name: str, doc: Any) -> None:
    read = getattr(contract, f"deserialize_{name}")
    try:
        read(doc)
    except ContextaError:
        pass


@settings(max_examples=25)
@given(data=st.data())
def test_deserializers_with_mutated_valid_documents(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(MODEL_STRATEGIES)))
    payload = to_payload(data.draw(MODEL_STRATEGIES[name]))
    key = data.draw(st.sampled_from(sorted(payload)))
    payload[key] = data.draw(json_values)
    try:
        getattr(contract, f"deserialize_{name}")(payload)
    except ContextaError:
        pass


@settings(max_examples=60)
@given(value=anything)
def test_serializers_raise_only_contexta_errors(value: object) -> None:
    try:
        to_json(value)
    except ContextaError:
        pass
    try:
        contract.deserialize_stable_ref(value)
    except ContextaError:
        pass


def test_decimal_and_fraction_are_rejected_with_contract_error() -> None:
    for value in (Decimal("1.5"), fractions.Fraction(1, 2)):
        with pytest.raises(ContextaError):
            contract.MetricPayload(metric_key="m", value=value, value_type="float64")


@settings(max_examples=60)
@given(args=st.lists(anything, min_size=5, max_size=8))
def test_extension_and_report_classes_raise_only_contexta_errors(args: list[Any]) -> None:
    calls = (
        lambda: contract.ExtensionRegistryEntry(*args[:8]),
        lambda: contract.ExtensionRegistry(args[0]),
        lambda: contract.ExtensionFieldSet(*args[:3]),
        lambda: contract.ValidationIssue(*args[:4]),
        lambda: contract.validate_run(args[0], registry=args[1]),
    )
    for call in calls:
        try:
            call()
        except ContextaError:
            pass
