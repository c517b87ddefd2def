"""The no-leak rule (contract §12.2) for the interpretation entry points.

Arbitrary values go into every public method; only ``ContextaError`` subclasses may come out.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.interpret.builders import Builder, nightly
from tests.interpret.fake_repository import InMemoryRepository

from contexta.errors import ContextaError
from contexta.interpretation import (
    AnomalyService,
    DiagnosticsService,
    MetricCondition,
    ProvenanceService,
    QueryService,
    RunListQuery,
    TimeRange,
    TrendService,
)

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=40),
    st.sampled_from(
        [
            "night-01",
            "run:etl.night-02",
            "etl.night-03",
            "fe",
            "b0",
            "etl",
            "rows-processed",
            "run:",
            "stage:etl.night-01.fe",
            "gt",
            "completed",
        ]
    ),
    st.binary(max_size=8),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.dictionaries(st.integers(), st.integers(), max_size=2),
)


def _services():
    repo = InMemoryRepository()
    builder = Builder(repo, "etl")
    for night in range(1, 5):
        nightly(builder, night, rows=100.0 + night, null_rate=0.01, degraded=night == 2)
    qs = QueryService(repo)
    return {
        "query": qs,
        "diagnostics": DiagnosticsService(qs),
        "trend": TrendService(qs),
        "anomaly": AnomalyService(qs),
        "provenance": ProvenanceService(qs),
    }


SERVICES = _services()

CALLS = [
    ("query", "list_runs", 1),
    ("query", "get_run_snapshot", 1),
    ("query", "get_provenance", 1),
    ("query", "get_artifact_origin", 1),
    ("query", "list_batches", 2),
    ("query", "list_samples", 3),
    ("query", "list_deployments", 2),
    ("diagnostics", "diagnose_run", 1),
    ("trend", "get_metric_trend", 1),
    ("trend", "get_step_series", 2),
    ("trend", "get_stage_duration_trend", 1),
    ("trend", "get_artifact_size_trend", 1),
    ("anomaly", "detect_anomalies_in_run", 1),
    ("anomaly", "compute_baseline", 1),
    ("provenance", "audit_reproducibility", 1),
    ("provenance", "compare_environments", 2),
]

KEYWORDS = {
    ("query", "list_runs"): (
        "status",
        "tags",
        "metric_conditions",
        "time_range",
        "limit",
        "offset",
        "sort_by",
        "sort_desc",
        "query",
    ),
    ("trend", "get_metric_trend"): ("project_name", "stage_name", "query"),
    ("trend", "get_step_series"): ("stage_id", "stage_name"),
    ("anomaly", "detect_anomalies_in_run"): ("baseline_query", "metric_keys", "stage_name"),
    ("anomaly", "compute_baseline"): ("query", "project_name", "stage_name"),
}


@pytest.mark.parametrize(("service", "method", "arity"), CALLS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_only_contexta_errors_escape(service, method, arity, data):
    target = getattr(SERVICES[service], method)
    args = [data.draw(anything) for _ in range(arity)]
    names = KEYWORDS.get((service, method), ())
    kwargs = {name: data.draw(anything) for name in names if data.draw(st.booleans())}
    try:
        target(*args, **kwargs)
    except ContextaError:
        pass


@settings(max_examples=80, deadline=None)
@given(a=anything, b=anything, c=anything, d=anything)
def test_argument_objects_only_raise_contexta_errors(a, b, c, d):
    for build in (
        lambda: TimeRange(a, b),
        lambda: MetricCondition(a, b, c, d),
        lambda: RunListQuery(project_name=a, status=b, tags=c, limit=d),
        lambda: RunListQuery(run_ids=a, offset=b, sort_by=c, sort_desc=d),
        lambda: AnomalyService(
            SERVICES["query"],
            z_score_threshold=a,
            min_baseline_runs=b,
            metric_aggregation=c,
            monitored_metrics=d,
        ),
        lambda: DiagnosticsService(SERVICES["query"], config=a),
    ):
        try:
            build()
        except ContextaError:
            pass
