"""``diagnose_run``: the data-quality codes of contract §7 and §7.1 (real SQLite)."""

from __future__ import annotations

from tests.interpret.builders import day


def codes(result) -> list[tuple[str, str]]:
    return [(issue.code, issue.severity) for issue in result.issues]


def test_schema_change_computed_and_as_finding(env):
    b, diagnose = env
    for night in (1, 2):
        run = b.run(f"n{night}", started=day(night))
        b.event(
            run,
            "features.schema",
            attributes={
                "dataset": "features",
                "columns": {"id": "int64", "amount": "float64", "old": "str"},
            },
        )
    run = b.run("n3", started=day(3))
    b.event(
        run,
        "features.schema",
        attributes={
            "dataset": "features",
            "columns": {"id": "int64", "amount": "str", "new": "bool"},
        },
    )
    (issue,) = diagnose(run).issues
    assert (issue.code, issue.severity) == ("schema_change", "warning")
    assert issue.details["added"] == ("new",)
    assert issue.details["removed"] == ("old",)
    assert issue.details["type_changed"] == {"amount": ("float64", "str")}
    assert issue.details["baseline_run_id"] == "run:proj.n2"
    b.degraded(
        run,
        "dq.schema_change",
        severity="error",
        summary="columns changed",
        attributes={"dataset": "features", "added": ["new"]},
    )
    (issue,) = diagnose(run).issues  # de-duplicated: the finding wins
    assert (issue.code, issue.severity, issue.summary) == (
        "schema_change",
        "error",
        "columns changed",
    )
    assert issue.details["source"] == "finding"
    assert [i.code for i in diagnose(run, detect_data_quality=False).issues] == ["degraded_record"]


def test_null_rate_spike_rules_and_dedup(env):
    b, diagnose = env
    tags = {"dq.stat": "null_rate", "dq.dataset": "orders", "dq.column": "price"}
    for night in range(1, 4):
        run = b.run(f"n{night}", started=day(night))
        b.metric(run, "orders.price.null_rate", 0.01, tags=tags)
        b.metric(run, "val/null_rate", 0.0)
    run = b.run("n4", started=day(4))
    b.metric(run, "orders.price.null_rate", 0.08, tags=tags)
    b.metric(run, "val/null_rate", 0.6)
    result = diagnose(run, detect_metric_anomalies=False)
    assert codes(result) == [("null_rate_spike", "warning"), ("null_rate_spike", "error")]
    first = dict(result.issues[0].details)
    assert first == {
        "metric_key": "orders.price.null_rate",
        "dataset": "orders",
        "column": "price",
        "value": 0.08,
        "baseline_max": 0.01,
        "baseline_run_count": 3,
    }
    b.degraded(
        run,
        "dq.null_rate_spike",
        severity="warning",
        summary="price nulls",
        attributes={"dataset": "orders", "column": "price", "value": 0.08},
    )
    result = diagnose(run, detect_metric_anomalies=False)
    assert codes(result) == [("null_rate_spike", "error"), ("null_rate_spike", "warning")]
    assert [i.details.get("source") for i in result.issues] == [None, "finding"]
    assert (
        diagnose(run, detect_metric_anomalies=False, null_rate_spike_min_increase=0.9)
        .issues[0]
        .summary
        == "price nulls"
    )


def test_zero_collapse_rules(env):
    b, diagnose = env
    zero = {"dq.stat": "zero_rate", "dq.dataset": "orders", "dq.column": "qty"}
    rows = {"dq.stat": "row_count", "dq.dataset": "orders"}
    for night in range(1, 3):
        run = b.run(f"n{night}", started=day(night))
        b.metric(run, "orders.qty.zero_rate", 0.1, tags=zero)
        b.metric(run, "orders.row_count", 500, tags=rows)
    run = b.run("n3", started=day(3))
    b.metric(run, "orders.qty.zero_rate", 1.0, tags=zero)
    b.metric(run, "orders.row_count", 0, tags=rows)
    result = diagnose(run, detect_metric_anomalies=False)
    assert codes(result) == [("zero_collapse", "error"), ("zero_collapse", "error")]
    assert dict(result.issues[1].details) == {
        "metric_key": "orders.row_count",
        "dataset": "orders",
        "column": None,
        "value": 0,
        "baseline_min": 500.0,
        "baseline_max": 500.0,
    }
    b.degraded(
        run,
        "dq.zero_collapse",
        severity="warning",
        summary="qty all zero",
        attributes={"dataset": "orders", "column": "qty"},
    )
    result = diagnose(run, detect_metric_anomalies=False)
    assert codes(result) == [("zero_collapse", "error"), ("zero_collapse", "warning")]
    assert result.issues[1].summary == "qty all zero"


def test_schema_change_skips_events_the_quality_layer_checked(env):
    """The layer compares a schema with the dataset's last healthy run and marks the event;
    comparing it again with the latest baseline run (a broken night) would report the
    night after a break as a schema change back."""
    b, diagnose = env
    healthy = {"id": "int64", "wind_speed": "float64"}
    broken = {"id": "int64", "wind_speed_mph": "float64"}
    for night, columns in ((1, healthy), (2, broken)):
        run = b.run(f"n{night}", started=day(night))
        b.event(run, "weather.schema", attributes={"dataset": "weather", "columns": columns})
    checked = b.run("n3", started=day(3))
    b.event(
        checked,
        "weather.schema",
        attributes={"dataset": "weather", "columns": healthy, "checked_by": "contexta.quality"},
    )
    assert diagnose(checked).issues == ()
    unchecked = b.run("n4", started=day(4))
    b.event(unchecked, "weather.schema", attributes={"dataset": "weather", "columns": broken})
    (issue,) = diagnose(unchecked).issues  # hand-written events are still compared
    assert (issue.code, issue.details["baseline_run_id"]) == ("schema_change", "run:proj.n3")
