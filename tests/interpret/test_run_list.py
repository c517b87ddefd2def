"""``list_runs`` (contract §5.5): one order whatever the filters, instants not strings."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from tests.interpret.builders import Builder
from tests.interpret.fake_repository import InMemoryRepository

from contexta.errors import ValidationError
from contexta.interpretation import MetricCondition, QueryService, RunListQuery, TimeRange


@pytest.fixture
def runs() -> tuple[QueryService, Builder]:
    repo = InMemoryRepository()
    b = Builder(repo, "p")
    # c and a start at the same instant (written with and without offset): ties go by ref
    b.run("c", started="2025-01-01T09:00:00+09:00", tags={"team": "x"})
    b.run("a", started="2025-01-01T00:00:00Z", status="failed", tags={"team": "y"})
    b.run("late", started="2025-01-01T00:00:00.500000Z", status="open")
    b.run(
        "early",
        started="2024-12-31T23:59:59.999999Z",
        ended="2025-01-02T00:00:00Z",
        tags={"team": "x", "env": "prod"},
    )
    return QueryService(repo), b


def ids(records) -> list[str]:
    return [r.run_id.rpartition(".")[2] for r in records]


def test_default_is_oldest_first_with_ties_by_ref(runs):
    qs, _ = runs
    assert ids(qs.list_runs("p")) == ["early", "a", "c", "late"]
    assert ids(qs.list_runs()) == ["early", "a", "c", "late"]


def test_order_does_not_depend_on_filters(runs):
    qs, _ = runs
    assert ids(qs.list_runs("p", tags={"team": "x"})) == ["early", "c"]
    assert ids(qs.list_runs("p", status="failed")) == ["a"]
    assert ids(qs.list_runs("p", sort_desc=True)) == ["late", "c", "a", "early"]
    assert ids(qs.list_runs("p", tags={"team": "x"}, sort_desc=True)) == ["c", "early"]


def test_sort_by_ended_at_puts_open_runs_last_both_ways(runs):
    qs, _ = runs
    assert ids(qs.list_runs("p", sort_by="ended_at")) == ["a", "c", "early", "late"]
    assert ids(qs.list_runs("p", sort_by="ended_at", sort_desc=True)) == ["early", "c", "a", "late"]
    assert ids(qs.list_runs("p", sort_by="name")) == ["a", "c", "early", "late"]


def test_time_range_is_inclusive_and_compares_instants(runs):
    qs, _ = runs
    window = TimeRange(
        started_after="2025-01-01T09:00:00+09:00",
        started_before=datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=UTC),
    )
    assert window.started_after == "2025-01-01T00:00:00Z"
    assert ids(qs.list_runs("p", time_range=window)) == ["a", "c", "late"]
    assert ids(qs.list_runs("p", time_range=TimeRange(started_before="2025-01-01T00:00:00Z"))) == [
        "early",
        "a",
        "c",
    ]


def test_paging_applies_after_sorting(runs):
    qs, _ = runs
    assert ids(qs.list_runs("p", offset=1, limit=2)) == ["a", "c"]
    assert ids(qs.list_runs("p", offset=10)) == []


def test_query_object_replaces_arguments_and_run_ids(runs):
    qs, _ = runs
    query = RunListQuery(status="completed", run_ids=["c", "run:p.early", "p.late"])
    assert ids(qs.list_runs("p", status="failed", query=query)) == ["early", "c"]
    assert ids(qs.list_runs(query=RunListQuery(project_name="p", limit=1, sort_desc=True))) == [
        "late"
    ]


def test_metric_conditions_use_latest_value_and_skip_nan(runs):
    qs, b = runs
    for name, values in (("a", [0.1, 0.9]), ("c", [0.8, 0.2]), ("early", [math.nan])):
        run = f"run:p.{name}"
        stage = b.stage(run, "eval")
        for minute, value in enumerate(values):
            b.metric(run, "acc", value, stage=stage, observed=f"2025-01-02T00:0{minute}:00Z")
    b.metric("run:p.late", "acc", 0.95)  # run level, no stage
    assert ids(qs.list_runs("p", metric_conditions=[MetricCondition("acc", "gt", 0.5)])) == [
        "a",
        "late",
    ]
    staged = MetricCondition("acc", "gte", 0.2, stage_name="eval")
    assert ids(qs.list_runs("p", metric_conditions=[staged])) == ["a", "c"]
    both = [MetricCondition("acc", "lt", 0.95), MetricCondition("acc", "ne", 0.2)]
    assert ids(qs.list_runs("p", metric_conditions=both)) == ["a"]


def test_latest_metric_breaks_observed_ties_by_sequence(runs):
    qs, b = runs
    b.metric("run:p.a", "x", 1.0, observed="2025-01-02T00:00:00Z")
    b.metric("run:p.a", "x", 2.0, observed="2025-01-02T00:00:00Z")
    b.metric("run:p.a", "x", 3.0, observed="2025-01-01T00:00:00Z")
    assert ids(qs.list_runs("p", metric_conditions=[MetricCondition("x", "eq", 2)])) == ["a"]


@pytest.mark.parametrize(
    ("build", "code", "field"),
    [
        (lambda: RunListQuery(status="running"), "query_invalid_run_list_query", "status"),
        (lambda: RunListQuery(limit=0), "query_invalid_run_list_query", "limit"),
        (lambda: RunListQuery(limit=True), "query_invalid_run_list_query", "limit"),
        (lambda: RunListQuery(offset=-1), "query_invalid_run_list_query", "offset"),
        (lambda: RunListQuery(sort_by="rank"), "query_invalid_run_list_query", "sort_by"),
        (lambda: RunListQuery(sort_desc="yes"), "query_invalid_run_list_query", "sort_desc"),
        (lambda: RunListQuery(tags={"a": 1}), "query_invalid_run_list_query", "tags"),
        (lambda: RunListQuery(tags=["a"]), "query_invalid_run_list_query", "tags"),
        (
            lambda: RunListQuery(metric_conditions=["acc>1"]),
            "query_invalid_run_list_query",
            "metric_conditions",
        ),
        (lambda: RunListQuery(run_ids="run:p.a"), "query_invalid_run_list_query", "run_ids"),
        (lambda: RunListQuery(time_range=("a", "b")), "query_invalid_run_list_query", "time_range"),
        (
            lambda: TimeRange(
                started_after="2025-01-02T00:00:00Z", started_before="2025-01-01T00:00:00Z"
            ),
            "query_invalid_time_range",
            "time_range",
        ),
        (
            lambda: TimeRange(started_after="2025-01-01T00:00:00"),
            "query_invalid_time_range",
            "time_range.started_after",
        ),
        (
            lambda: TimeRange(started_before=1735689600),
            "query_invalid_time_range",
            "time_range.started_before",
        ),
        (
            lambda: MetricCondition("acc", "between", 1),
            "query_invalid_metric_condition",
            "operator",
        ),
        (lambda: MetricCondition("acc", "gt", True), "query_invalid_metric_condition", "threshold"),
        (lambda: MetricCondition("acc", "gt", "1"), "query_invalid_metric_condition", "threshold"),
        (
            lambda: MetricCondition("acc", "gt", math.nan),
            "query_invalid_metric_condition",
            "threshold",
        ),
        (lambda: MetricCondition("", "gt", 1), "query_invalid_metric_condition", "metric_key"),
    ],
)
def test_invalid_arguments_name_the_field(build, code, field):
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.code == code
    assert caught.value.details["field"] == field
    assert field.rpartition(".")[2] in str(caught.value)


def test_facade_style_arguments_are_validated(runs):
    qs, _ = runs
    with pytest.raises(ValidationError):
        qs.list_runs("p", limit=-5)
    with pytest.raises(ValidationError):
        qs.list_runs(query={"status": "open"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        qs.list_runs(123)  # type: ignore[arg-type]
