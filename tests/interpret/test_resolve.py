"""Identifier resolution (contract §5.3) on the in-memory fake."""

from __future__ import annotations

import pickle

import pytest
from tests.interpret.builders import Builder
from tests.interpret.fake_repository import InMemoryRepository

from contexta.contract import StableRef
from contexta.errors import (
    ConflictError,
    ContextaError,
    InterpretationError,
    NotFoundError,
    ValidationError,
)
from contexta.interpretation import QueryService


@pytest.fixture
def service() -> tuple[QueryService, Builder]:
    repo = InMemoryRepository()
    builder = Builder(repo, "alpha")
    builder.run("night-01", display="Nightly One")
    builder.run("night-02", display="night-01")  # a name equal to another run's component
    other = Builder(repo, "beta")
    other.run("shared", display="Shared")
    builder.run("shared", display="Shared")
    return QueryService(repo), builder


@pytest.mark.parametrize(
    ("run_id", "expected"),
    [
        ("run:alpha.night-01", "run:alpha.night-01"),
        (StableRef.parse("run:alpha.night-02"), "run:alpha.night-02"),
        ("alpha.night-02", "run:alpha.night-02"),
        # the suffix form wins over the name form: "night-01" is night-02's *name*
        ("night-01", "run:alpha.night-01"),
        ("Nightly One", "run:alpha.night-01"),
        ("beta.shared", "run:beta.shared"),
    ],
)
def test_run_forms_in_order(service, run_id, expected):
    qs, _ = service
    assert qs.get_run(run_id).run_id == expected


def test_ambiguous_suffix_lists_candidates(service):
    qs, _ = service
    with pytest.raises(ConflictError) as caught:
        qs.get_run("shared")
    err = caught.value
    assert err.code == "query_run_ambiguous"
    assert set(err.details["candidates"]) == {"run:alpha.shared", "run:beta.shared"}
    assert "shared" in str(err)


@pytest.mark.parametrize("run_id", ["nope", "run:alpha.nope", "alpha.nope", "Nope Run", "run:"])
def test_unknown_run_is_not_found_and_interpretation_error(service, run_id):
    qs, _ = service
    with pytest.raises(NotFoundError) as caught:
        qs.get_run_snapshot(run_id)
    err = caught.value
    assert isinstance(err, InterpretationError)
    assert isinstance(err, LookupError)
    assert err.code == "query_run_not_found"
    assert err.details["field"] == "run_id"
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is type(err)
    assert clone.code == err.code


@pytest.mark.parametrize("run_id", [None, 3, b"run:alpha.night-01", "", "   ", ["x"]])
def test_bad_run_id_types_are_validation_errors(service, run_id):
    qs, _ = service
    with pytest.raises(ValidationError) as caught:
        qs.get_run_snapshot(run_id)
    assert caught.value.details["field"] == "run_id"
    assert isinstance(caught.value, ContextaError)


def test_stage_and_batch_resolution(service):
    qs, builder = service
    run = "run:alpha.night-01"
    stage = builder.stage(run, "train")
    builder.stage(run, "eval", order=1)
    builder.batch(stage, "b0")
    builder.batch(stage, "b1", order=1)
    assert [b.name for b in qs.list_batches(run, "train")] == ["b0", "b1"]
    assert [b.name for b in qs.list_batches(run, stage)] == ["b0", "b1"]
    assert qs.list_batches(run, "eval") == ()
    with pytest.raises(NotFoundError) as caught:
        qs.list_batches(run, "missing")
    assert caught.value.code == "query_stage_not_found"
    assert isinstance(caught.value, InterpretationError)
    with pytest.raises(NotFoundError) as caught:
        qs.list_samples(run, "train", "b9")
    assert caught.value.code == "query_batch_not_found"
    assert qs.list_samples(run, "train", "b1") == ()


def test_unknown_project_lists_are_empty(service):
    qs, _ = service
    assert qs.list_runs("nobody") == ()
    assert qs.list_deployments("nobody") == ()
    assert [r.run_id for r in qs.list_runs("project:beta")] == ["run:beta.shared"]
    assert [r.run_id for r in qs.list_runs("beta")] == ["run:beta.shared"]
    assert qs.list_projects() == ("alpha", "beta")
