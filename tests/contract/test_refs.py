"""StableRef grammar, equality with text, shapes, and the slug rule (contract.md §3.3, §8.2)."""

from __future__ import annotations

import hashlib
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import components, ref_texts

from contexta.contract import Run, StableRef, deserialize_stable_ref, to_json, to_payload
from contexta.contract.refs import slugify
from contexta.errors import ContractError, SerializationError


def test_parse_exposes_parts() -> None:
    ref = StableRef.parse("stage:my-proj.run_1.feature-eng")
    assert ref.kind == "stage"
    assert ref.value == "my-proj.run_1.feature-eng"
    assert ref.text == "stage:my-proj.run_1.feature-eng"
    assert ref.components == ("my-proj", "run_1", "feature-eng")
    assert ref.to_dict() == {"kind": "stage", "value": "my-proj.run_1.feature-eng"}
    assert str(ref) == ref.text
    assert StableRef("stage", "my-proj.run_1.feature-eng") == ref


def test_ref_equals_and_hashes_like_its_text() -> None:
    ref = StableRef.parse("run:p.r")
    assert ref == "run:p.r"
    assert "run:p.r" == ref
    assert ref != "run:p.x"
    assert hash(ref) == hash("run:p.r")
    assert {"run:p.r": 1}[ref] == 1
    assert ref in {"run:p.r"}
    assert ref != 42


def test_model_ref_fields_are_stable_refs_equal_to_text() -> None:
    run = Run(
        run_ref="run:p.r",
        project_ref="project:p",
        name="n",
        status="open",
        started_at="2025-01-01Z",
    )
    assert isinstance(run.run_ref, StableRef)
    assert run.run_ref == "run:p.r"
    assert run.started_at == "2025-01-01T00:00:00Z"


def test_ref_is_immutable_and_pickles() -> None:
    ref = StableRef.parse("artifact:p.r.model")
    with pytest.raises(AttributeError):
        ref.kind = "run"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ref._text = "x"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(ref)) == ref
    assert type(pickle.loads(pickle.dumps(ref))) is StableRef


@pytest.mark.parametrize(
    "text",
    ["run:p.r", "x:a", "relation:a-b_c.d", "custom_kind:1.2.3.4.5.6", "sample:p.r.s.b.n"],
)
def test_valid_refs(text: str) -> None:
    assert StableRef.parse(text).text == text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "stable_ref_invalid_text"),
        ("run", "stable_ref_invalid_text"),
        ("a:b:c", "stable_ref_invalid_text"),
        ("1run:p.r", "stable_ref_invalid_kind"),
        ("run:", "stable_ref_invalid_value"),
        ("run:p.-r", "stable_ref_invalid_value"),
        ("run:p.r-", "stable_ref_invalid_value"),
        ("run:p.a_-b", "stable_ref_invalid_value"),
        ("run:p r", "stable_ref_invalid_value"),
        ("stage:p.r", "stable_ref_invalid_shape"),
        ("batch:p.r.s", "stable_ref_invalid_shape"),
        ("sample:p.r.s", "stable_ref_invalid_shape"),
        ("record:p.r.a.b", "stable_ref_invalid_shape"),
        ("relation:" + "a." * 130, "stable_ref_too_long"),
    ],
)
def test_invalid_refs(text: str, code: str) -> None:
    with pytest.raises(ContractError) as info:
        StableRef.parse(text)
    assert info.value.code == code
    assert info.value.details is not None
    assert info.value.details["field"] == "ref"


@given(ref_texts())
def test_generated_refs_round_trip(text: str) -> None:
    ref = StableRef.parse(text)
    assert to_payload(ref) == text
    assert deserialize_stable_ref(to_json(ref)) == ref
    assert deserialize_stable_ref(text) == ref
    assert deserialize_stable_ref(ref.to_dict()) == ref


def test_deserialize_stable_ref_rejects_unknown_keys() -> None:
    with pytest.raises(SerializationError) as info:
        deserialize_stable_ref({"kind": "run", "value": "p.r", "x": 1})
    assert info.value.code == "deserialize_unknown_fields"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Train Run #1", "train-run-1"),
        ("train_run_1", "train_run_1"),
        ("Données Clients", "donnees-clients"),
        ("val/loss", "val-loss"),
        ("  --a__-b--  ", "a_b"),
        ("x" * 80, "x" * 63),
    ],
)
def test_slug_examples(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slug_of_text_with_nothing_ascii_is_a_hash() -> None:
    expected = "h-" + hashlib.sha256("학습".encode()).hexdigest()[:8]
    assert slugify("학습") == expected
    assert slugify("") == "h-" + hashlib.sha256(b"").hexdigest()[:8]


def test_slug_cut_strips_again() -> None:
    assert slugify("abc-def", max_len=4) == "abc"


@given(components)
def test_components_slug_to_themselves(component: str) -> None:
    assert slugify(component) == component


@given(st.text(max_size=80))
def test_slug_is_a_valid_component(text: str) -> None:
    assert StableRef.parse("x:" + slugify(text)).components == (slugify(text),)
