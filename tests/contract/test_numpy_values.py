"""numpy values in JSON fields (attributes, metadata): lists or scalars, or a contract error."""

from __future__ import annotations

import numpy as np
import pytest

from contexta import Contexta, ContextaError
from contexta.contract.text import freeze_json_mapping, freeze_json_value
from contexta.errors import ValidationError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.arange(3), (0, 1, 2)),
        (np.array([0.5, 1.5]), (0.5, 1.5)),
        (np.array([True, False]), (True, False)),
        (np.arange(4).reshape(2, 2), ((0, 1), (2, 3))),
        (np.array([7]), (7,)),  # one element stays a list, not a scalar
        (np.array([], dtype=float), ()),
        (np.array(["a", "b"]), ("a", "b")),
        (np.array([1.0, np.nan, np.inf]), (1.0, "NaN", "Infinity")),
    ],
)
def test_arrays_become_lists(value: object, expected: tuple[object, ...]) -> None:
    frozen = freeze_json_value(value, "attributes.arr")
    assert frozen == expected
    assert type(frozen) is tuple


@pytest.mark.parametrize(
    ("value", "expected", "kind"),
    [
        (np.array(5), 5, int),
        (np.array(2.5), 2.5, float),
        (np.array(True), True, bool),
        (np.int64(3), 3, int),
        (np.float32(0.5), 0.5, float),
        (np.bool_(False), False, bool),
    ],
)
def test_zero_d_arrays_and_scalars_become_scalars(
    value: object, expected: object, kind: type
) -> None:
    frozen = freeze_json_value(value, "metadata.a")
    assert frozen == expected
    assert type(frozen) is kind


def test_object_array_with_unrepresentable_item_is_a_contract_error() -> None:
    value = np.array([1, object()], dtype=object)
    with pytest.raises(ContextaError) as info:
        freeze_json_mapping({"arr": value}, "attributes")
    err = info.value
    assert isinstance(err, ValidationError)
    assert err.details["field"] == "attributes.arr[1]"
    assert "allowed" in err.details
    assert "JSON" in err.details["allowed"]


def test_complex_array_is_a_contract_error_not_a_raw_value_error() -> None:
    with pytest.raises(ContextaError) as info:
        freeze_json_mapping({"z": np.array([1 + 2j])}, "metadata")
    assert info.value.details["field"] == "metadata.z[0]"


def test_run_event_and_metadata_accept_arrays(ctx: Contexta) -> None:
    with ctx.run("x", metadata={"a": np.arange(3), "m": np.eye(2)}) as run:
        run.event("e", message="m", attributes={"arr": np.arange(3), "one": np.array([4])})
        run_ref = run.ref
    assert ctx.get_run_snapshot(run_ref) is not None
