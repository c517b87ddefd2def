from __future__ import annotations

import re
from typing import Any

import pytest

from contexta.errors import ValidationError
from contexta.quality import Expectation, QualityThresholds, evaluate_expectation, profile_frame
from contexta.quality.expectations import threshold_findings
from contexta.quality.recording import key_segment, metric_items, schema_event

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(?:[./][A-Za-z0-9_-]+)*$")


def _profile(data: dict[str, Any]) -> Any:
    import polars as pl

    return profile_frame(pl.DataFrame(data, strict=False))


def test_each_violated_limit_is_one_finding() -> None:
    profile = _profile({"amount": [None, 0.0, 0.0, 5.0], "id": [1, 1, 1, 1]})
    spec = Expectation(column="amount", max_null_rate=0.1, max_zero_rate=0.25, min_rows=10,
                       max_value=4.0)
    findings = evaluate_expectation(profile, spec, dataset="orders")
    assert [f.attributes["expectation"] for f in findings] == [
        "min_rows", "max_null_rate", "max_zero_rate", "max_value"]
    assert {f.issue_key for f in findings} == {"dq.expectation_failed"}
    assert {f.severity for f in findings} == {"error"}
    null = findings[1]
    assert (null.column, null.attributes["limit"], null.attributes["value"]) == (
        "amount", 0.1, 0.25)
    assert evaluate_expectation(profile, Expectation(column="amount", max_null_rate=0.25)) == ()


def test_missing_column_is_a_failure_not_an_error() -> None:
    profile = _profile({"a": [1]})
    (finding,) = evaluate_expectation(profile, Expectation(column="b", max_null_rate=0.0))
    assert finding.attributes["expectation"] == "column_present"
    assert "'b'" in finding.summary


def test_without_column_limits_apply_to_every_column() -> None:
    profile = _profile({"a": [None, 1], "b": [None, None], "c": [1, 2]})
    findings = evaluate_expectation(profile, Expectation(max_null_rate=0.4, min_distinct=2))
    assert [(f.column, f.attributes["expectation"]) for f in findings] == [
        ("a", "max_null_rate"), ("a", "min_distinct"), ("b", "max_null_rate"),
        ("b", "min_distinct")]


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_null_rate", 1.5), ("max_null_rate", True), ("min_rows", -1), ("min_rows", 2.5),
     ("severity", "fatal"), ("column", ""), ("min_value", float("inf"))],
)
def test_bad_expectations_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Expectation(**{field: value})
    assert field in str(info.value)


def test_threshold_limits_need_no_history() -> None:
    profile = _profile({"a": [None, 1.0], "b": [0, 0]})
    thresholds = QualityThresholds(min_rows=5, columns={"a": {"max_null_rate": 0.1},
                                                        "b": {"max_zero_rate": 0.5}})
    findings = threshold_findings(profile, thresholds, dataset="d")
    assert [(f.column, f.attributes["expectation"]) for f in findings] == [
        (None, "min_rows"), ("a", "max_null_rate"), ("b", "max_zero_rate")]
    assert {f.attributes["source"] for f in findings} == {"thresholds"}


@pytest.mark.parametrize(
    ("text", "first", "expected"),
    [("purchase_amount", False, "purchase_amount"), ("Données Clients", False, "Donnees-Clients"),
     ("val/loss", False, "val-loss"), ("2024 sales", True, "_2024-sales"),
     ("2024 sales", False, "2024-sales"), ("..", False, None), ("학습", True, None)],
)
def test_key_segments(text: str, first: bool, expected: str | None) -> None:
    segment = key_segment(text, first=first)
    if expected is None:
        assert segment.startswith("h-")
    else:
        assert segment == expected
    assert KEY.match(segment if first or segment[0].isalpha() else "k." + segment)


def test_metric_items_follow_the_recording_convention() -> None:
    profile = _profile({"amount": [1.0, None], "a b": ["x", "y"], "a-b": ["x", "x"],
                        "flag": [True, False]})
    items = metric_items(profile, "My Orders")
    keys = [item["key"] for item in items]
    assert len(keys) == len(set(keys))
    assert all(KEY.match(str(key)) and len(str(key)) <= 255 for key in keys)
    by_key = {item["key"]: item for item in items}
    assert by_key["My-Orders.row_count"]["value"] == 2
    assert by_key["My-Orders.row_count"]["tags"] == {"dq.stat": "row_count",
                                                     "dq.dataset": "My Orders",
                                                     "dq.source": "contexta.quality"}
    null = by_key["My-Orders.amount.null_rate"]
    assert null["tags"] == {"dq.stat": "null_rate", "dq.dataset": "My Orders",
                            "dq.column": "amount", "dq.source": "contexta.quality"}
    assert null["value"] == 0.5
    # two column names with the same slug get distinct keys, exact names in tags
    assert by_key["My-Orders.a-b.distinct_count"]["tags"]["dq.column"] == "a b"
    assert by_key["My-Orders.a-b-2.distinct_count"]["tags"]["dq.column"] == "a-b"
    assert {item["tags"]["dq.stat"] for item in items} <= {
        "row_count", "null_rate", "zero_rate", "distinct_count", "min", "max", "mean"}
    for item in items:
        assert type(item["value"]) in (int, float)
    assert by_key["My-Orders.flag.zero_rate"]["value"] == 0.5


def test_long_names_stay_valid_keys() -> None:
    profile = _profile({"c" * 400: [1]})
    for item in metric_items(profile, "d" * 300):
        assert len(str(item["key"])) <= 255
        assert KEY.match(str(item["key"]))


def test_schema_event_shape() -> None:
    profile = _profile({"b": [1], "a": ["x"]})
    key, message, attributes = schema_event(profile, "vendor feed")
    assert key == "vendor-feed.schema"
    assert attributes["dataset"] == "vendor feed"
    assert attributes["columns"] == {"b": "Int64", "a": "String"}
    assert attributes["column_order"] == ["b", "a"]
    assert attributes["schema_fingerprint"] == profile.schema_fingerprint
    assert "vendor feed" in message


@pytest.mark.parametrize(
    ("key", "null_rate", "row_count"),
    [("feature-null-rate", True, False), ("features.amount.null_rate", True, False),
     ("x/amount_null_rate", True, False), ("null_rate_total", False, False),
     ("rows-processed", False, True), ("etl.row_count", False, True), ("rows_out", False, False)],
)
def test_summary_key_conventions(key: str, null_rate: bool, row_count: bool) -> None:
    from contexta.quality.summary import is_null_rate_key, is_row_count_key

    assert is_null_rate_key(key) is null_rate
    assert is_row_count_key(key) is row_count
