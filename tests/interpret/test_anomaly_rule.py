"""The anomaly rule of contract §5.11 and ``AnomalyService`` on the in-memory fake."""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.interpret.builders import Builder, day, nightly
from tests.interpret.fake_repository import InMemoryRepository

from contexta.errors import AnomalyError, ValidationError
from contexta.interpret.baseline import percentile, score_value
from contexta.interpretation import AnomalyService, QueryService, RunListQuery


def test_constant_history_jump_is_an_error():
    score = score_value(1.0, [0.002] * 4, 2.5)
    assert score.std == 0.0
    assert score.scale == pytest.approx(2e-5)
    assert score.z_score == pytest.approx(49_900)
    assert score.severity == "error"
    assert score.expected_range == pytest.approx((0.00195, 0.00205))


def test_slowly_growing_counter_stays_info():
    score = score_value(118_800, [118_200, 118_400, 118_600], 2.5)
    assert score.severity == "info"
    assert abs(score.z_score) < 2.5


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        (10.0, "info"),
        (12.49, "info"),
        (12.5, "warning"),
        (13.74, "warning"),
        (13.75, "error"),
        (7.5, "warning"),
        (6.25, "error"),
    ],
)
def test_severity_boundaries(value, severity):
    # mean 10, std 1 (values 9 and 11), scale 1, t = 2.5: warning at |z| >= 2.5, error >= 3.75
    assert score_value(value, [9.0, 11.0], 2.5).severity == severity


def test_scale_floor_for_zero_mean_and_zero_std():
    score = score_value(1e-8, [0.0, 0.0, 0.0], 2.5)
    assert score.scale == 1e-9
    assert score.z_score == pytest.approx(10.0)


@given(
    value=st.floats(allow_nan=False, allow_infinity=False),
    history=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30),
)
def test_z_score_is_always_finite(value, history):
    score = score_value(value, history, 2.5)
    assert math.isfinite(score.z_score)
    assert math.isfinite(score.mean)
    assert math.isfinite(score.std)
    assert score.severity in ("info", "warning", "error")


def test_extreme_magnitudes_do_not_overflow():
    big = sys.float_info.max
    score = score_value(-big, [big, big / 2, big], 2.5)
    assert math.isfinite(score.z_score)
    assert score.severity == "error"


def test_percentile_interpolates():
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile([1.0, 3.0], 0.25) == 1.5
    assert math.isnan(percentile([], 0.5))


@pytest.fixture
def seeded() -> tuple[QueryService, InMemoryRepository]:
    repo = InMemoryRepository()
    b = Builder(repo, "etl")
    for night in range(1, 8):
        broken = night == 5
        nightly(
            b,
            night,
            rows=0 if broken else 118_000 + night * 200,
            null_rate=1.0 if broken else 0.002,
            degraded=broken,
        )
    return QueryService(repo), repo


def test_detect_anomalies_in_run_orders_by_stage_then_key(seeded):
    qs, _ = seeded
    service = AnomalyService(qs)
    results = service.detect_anomalies_in_run("night-05")
    assert [(r.stage_name, r.metric_key, r.severity) for r in results] == [
        ("fe", "feature-null-rate", "error"),
        ("fe", "rows-processed", "error"),
    ]
    assert all(math.isfinite(r.z_score) for r in results)
    assert results[0].run_id == "run:etl.night-05"
    assert results[0].evidence_links[0].kind == "record"
    healthy = service.detect_anomalies_in_run("night-07")
    assert {r.severity for r in healthy} == {"info"}


def test_too_few_baseline_runs_skips_keys(seeded):
    qs, _ = seeded
    assert AnomalyService(qs).detect_anomalies_in_run("night-03") == ()
    assert len(AnomalyService(qs, min_baseline_runs=2).detect_anomalies_in_run("night-03")) == 2


def test_metric_keys_monitored_metrics_and_baseline_query(seeded):
    qs, _ = seeded
    service = AnomalyService(qs, monitored_metrics=("rows-processed",))
    assert [r.metric_key for r in service.detect_anomalies_in_run("night-05")] == ["rows-processed"]
    only = AnomalyService(qs).detect_anomalies_in_run("night-05", metric_keys=["feature-null-rate"])
    assert [r.metric_key for r in only] == ["feature-null-rate"]
    # a baseline query that selects the later nights, minus the target itself
    query = RunListQuery(project_name="etl", run_ids=["night-05", "night-06", "night-07"])
    assert AnomalyService(qs).detect_anomalies_in_run("night-05", baseline_query=query) == ()
    query = RunListQuery(project_name="etl", time_range=None)
    later = AnomalyService(qs).detect_anomalies_in_run("night-07", baseline_query=query)
    assert {r.severity for r in later} == {"info"}
    assert AnomalyService(qs).detect_anomalies_in_run("night-05", stage_name="other") == ()


def test_compute_baseline_and_detect_against_it(seeded):
    qs, _ = seeded
    service = AnomalyService(qs)
    baseline = service.compute_baseline(
        "feature-null-rate",
        query=RunListQuery(
            project_name="etl", run_ids=["night-01", "night-02", "night-03", "night-04"]
        ),
    )
    assert baseline.computed_from_n_runs == 4
    assert baseline.mean == pytest.approx(0.002)
    assert baseline.std == 0.0
    assert baseline.scale == pytest.approx(2e-5)
    (result,) = service.detect_anomalies("night-05", baseline=baseline)
    assert result.severity == "error"
    assert result.actual_value == 1.0
    empty = service.compute_baseline("missing", project_name="etl")
    assert empty.computed_from_n_runs == 0
    assert math.isnan(empty.mean)
    assert service.detect_anomalies("night-05", baseline=empty) == ()
    window = service.compute_baseline("rows-processed", project_name="etl", stage_name="fe")
    assert window.computed_from_n_runs == 7


def test_non_finite_run_values_are_left_to_diagnostics():
    repo = InMemoryRepository()
    b = Builder(repo, "p")
    for night in range(1, 5):
        run = b.run(f"n{night}", started=day(night))
        b.metric(run, "loss", math.nan if night == 4 else 0.5)
    assert AnomalyService(QueryService(repo)).detect_anomalies_in_run("n4") == ()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"z_score_threshold": 0},
        {"z_score_threshold": math.inf},
        {"z_score_threshold": True},
        {"min_baseline_runs": 0},
        {"min_baseline_runs": 2.0},
        {"metric_aggregation": "median"},
        {"monitored_metrics": "loss"},
        {"baseline_window_runs": 0},
    ],
)
def test_invalid_policy(kwargs):
    with pytest.raises(AnomalyError) as caught:
        AnomalyService(QueryService(InMemoryRepository()), **kwargs)
    assert caught.value.code == "anomaly_invalid_policy"
    assert isinstance(caught.value, ValidationError)
    assert next(iter(kwargs)) in str(caught.value)


@settings(max_examples=40, deadline=None)
@given(
    present=st.lists(st.lists(st.booleans(), min_size=3, max_size=3), min_size=2, max_size=14),
    completed=st.lists(st.booleans(), min_size=14, max_size=14),
    window=st.integers(min_value=1, max_value=5),
)
def test_sliding_baseline_columns_equal_a_fresh_build(present, completed, window):
    repo = InMemoryRepository()
    b = Builder(repo, "p")
    for index, keys in enumerate(present):
        status = "completed" if completed[index] else "failed"
        run = b.run(f"n{index:02d}", started=day(index + 1), status=status)
        for key_index, has in enumerate(keys):
            if has:
                b.metric(run, f"k{key_index}", float(index * 10 + key_index))
    qs = QueryService(repo)
    sliding = AnomalyService(qs, baseline_window_runs=window)
    state = qs.read_state()
    from contexta.interpret.baseline import baseline_runs
    from contexta.interpret.facts import facts_for_runs

    for run in state.runs("project:p"):
        refs = tuple(str(r.run_ref) for r in baseline_runs(state, run, window))
        facts = facts_for_runs(state, list(refs))
        fresh = sliding.baseline_columns([facts[ref] for ref in refs])
        assert sliding.window_columns(state, refs, facts) == fresh
