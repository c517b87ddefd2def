"""History rules on plain data: profiles of real polars frames, no store."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from contexta.errors import ValidationError
from contexta.quality import (
    Baseline,
    ColumnThresholds,
    FrameProfile,
    QualityThresholds,
    evaluate_history,
    profile_frame,
)


def _healthy_night(rng: np.random.Generator, night: int) -> dict[str, Any]:
    """Ordinary day-to-day noise: row count, null rates, zero rates and values all wobble."""
    n = int(rng.normal(5000, 350))
    amount = rng.gamma(2.0, 20.0, n)
    amount_nulls = rng.random(n) < rng.uniform(0.002, 0.02)
    score = rng.uniform(0.05, 1.0, n)
    score_nulls = rng.random(n) < rng.uniform(0.0, 0.01)
    discount = np.where(rng.random(n) < rng.uniform(0.6, 0.75), 0.0, rng.uniform(1, 10, n))
    return {
        "order_id": np.arange(n) + night * 100_000,
        "amount": [None if m else float(v) for v, m in zip(amount, amount_nulls, strict=True)],
        "quantity": rng.integers(0, 6, n),
        "vendor_score": [None if m else float(v) for v, m in zip(score, score_nulls, strict=True)],
        "discount": discount,
        "segment": rng.choice(["a", "b", "c", "d", "e"], n).tolist(),
        "currency": ["USD"] * n,
        "is_member": (rng.random(n) < rng.uniform(0.25, 0.35)).tolist(),
        "ordered_at": [dt.datetime(2025, 4, 1) + dt.timedelta(seconds=int(s))
                       for s in rng.integers(0, 86_400, n)],
    }


def _profile(data: dict[str, Any]) -> FrameProfile:
    import polars as pl

    return profile_frame(pl.DataFrame(data, strict=False, nan_to_null=False))


def _codes(findings: tuple[Any, ...]) -> set[tuple[str, str | None]]:
    return {(f.issue_key, f.column) for f in findings}


def test_thirty_noisy_healthy_nights_raise_nothing() -> None:
    rng = np.random.default_rng(20250401)
    history: list[Baseline] = []
    for night in range(30):
        profile = _profile(_healthy_night(rng, night))
        findings = evaluate_history(profile, history[:7], dataset="features")
        assert findings == (), (night, [f.summary for f in findings])
        history.insert(0, Baseline.from_profile(profile, f"run:p.night-{night}"))


def _constant_history(runs: int = 7) -> list[Baseline]:
    rows = 1000
    data = {
        "amount": [None if i < 2 else 10.0 + i % 7 for i in range(rows)],  # null rate 0.002
        "vendor_score": [0.25 + (i % 10) / 10 for i in range(rows)],
        "segment": [["a", "b", "c"][i % 3] for i in range(rows)],
        "vendor_id": list(range(rows)),
    }
    profile = _profile(data)
    return [Baseline.from_profile(profile, f"run:p.night-{n}") for n in range(runs, 0, -1)]


def test_constant_history_flags_every_break() -> None:
    history = _constant_history()
    broken = _profile({
        "amount": [None] * 1000,  # 0.002 -> 1.0
        "vendor_score": [0.0] * 1000,  # varied -> all zeros
        "segment": ["unknown"] * 1000,  # varied -> constant
        "vendor_ref": [str(i) for i in range(1000)],  # vendor_id renamed (and retyped)
    })
    findings = evaluate_history(broken, history, dataset="features")
    by_key = {(f.issue_key, f.column): f for f in findings}
    assert set(by_key) == {
        ("dq.schema_change", None),
        ("dq.null_rate_spike", "amount"),
        ("dq.zero_collapse", "vendor_score"),
        ("dq.zero_collapse", "segment"),
    }
    spike = by_key[("dq.null_rate_spike", "amount")]
    assert spike.severity == "error"
    assert spike.attributes["value"] == 1.0
    assert spike.attributes["baseline_max"] == pytest.approx(0.002)
    assert spike.attributes["baseline_run_refs"] == [b.run_ref for b in history]
    assert spike.attributes["baseline_values"] == [pytest.approx(0.002)] * 7
    zeros = by_key[("dq.zero_collapse", "vendor_score")]
    assert zeros.severity == "error"
    assert zeros.attributes["rule"] == "zero_rate_rise"
    assert zeros.attributes["all_zero"] is True
    assert zeros.attributes["baseline_max"] == 0.0
    constant = by_key[("dq.zero_collapse", "segment")]
    assert constant.attributes["rule"] == "became_constant"
    schema = by_key[("dq.schema_change", None)]
    assert schema.severity == "error"
    assert schema.attributes["removed"] == ["vendor_id"]
    assert schema.attributes["added"] == ["vendor_ref"]
    assert schema.attributes["baseline_run_id"] == history[0].run_ref
    assert "vendor_id" in schema.summary


def test_row_count_drop_with_constant_history() -> None:
    history = [Baseline(run_ref=f"run:p.n{i}", row_count=1000) for i in range(7)]
    half = _profile({"x": list(range(400))})
    (finding,) = evaluate_history(half, history, dataset="d")
    assert (finding.issue_key, finding.severity) == ("dq.row_count_drop", "warning")
    assert finding.attributes["baseline_min"] == 1000
    empty = _profile({"x": []})
    (finding,) = evaluate_history(empty, history, dataset="d")
    assert finding.severity == "error"
    assert evaluate_history(_profile({"x": list(range(600))}), history, dataset="d") == ()


def test_small_null_rise_is_a_warning_and_noise_margin_applies() -> None:
    history = [Baseline(run_ref=f"run:p.n{i}", stats={"c": {"null_rate": 0.01}})
               for i in range(5)]
    profile = _profile({"c": [None] * 8 + [1.0] * 92})  # 0.08
    (finding,) = evaluate_history(profile, history, dataset="d")
    assert (finding.issue_key, finding.severity) == ("dq.null_rate_spike", "warning")
    noisy = [Baseline(run_ref=f"run:p.n{i}", stats={"c": {"null_rate": v}})
             for i, v in enumerate([0.0, 0.05, 0.01, 0.06, 0.0])]
    assert evaluate_history(profile, noisy, dataset="d") == ()


def test_no_history_means_no_history_findings() -> None:
    profile = _profile({"c": [None] * 10})
    assert evaluate_history(profile, [], dataset="d") == ()
    two = [Baseline(run_ref="run:p.a", stats={"c": {"null_rate": 0.0}})]
    strict = QualityThresholds(min_history_runs=2)
    assert evaluate_history(profile, two, strict, dataset="d") == ()
    assert evaluate_history(profile, two, dataset="d") != ()


def test_column_thresholds_override_dataset_thresholds() -> None:
    history = [Baseline(run_ref="run:p.a", stats={"a": {"null_rate": 0.0},
                                                  "b": {"null_rate": 0.0}})]
    profile = _profile({"a": [None] * 3 + [1.0] * 97, "b": [None] * 3 + [1.0] * 97})
    assert evaluate_history(profile, history, dataset="d") == ()
    thresholds = QualityThresholds(columns={"a": ColumnThresholds(null_rate_min_increase=0.02)})
    assert {f.column for f in evaluate_history(profile, history, thresholds, dataset="d")} == {"a"}
    loud = QualityThresholds(null_rate_min_increase=0.01,
                             columns={"b": {"ignore": True}})
    assert {f.column for f in evaluate_history(profile, history, loud, dataset="d")} == {"a"}


def test_always_constant_column_is_not_a_collapse() -> None:
    profile = _profile({"currency": ["USD"] * 50, "flag": [0] * 50})
    history = [Baseline.from_profile(profile, f"run:p.n{i}") for i in range(7)]
    assert evaluate_history(profile, history, dataset="d") == ()


def test_column_order_change_alone_is_not_a_schema_change() -> None:
    before = _profile({"a": [1], "b": ["x"]})
    after = _profile({"b": ["x"], "a": [1]})
    assert before.schema_fingerprint != after.schema_fingerprint
    assert evaluate_history(after, [Baseline.from_profile(before, "run:p.a")], dataset="d") == ()


def test_added_column_is_a_warning_and_retype_an_error() -> None:
    base = [Baseline.from_profile(_profile({"a": [1, 2]}), "run:p.a")]
    (added,) = evaluate_history(_profile({"a": [1, 2], "b": [1, 2]}), base, dataset="d")
    assert (added.severity, added.attributes["added"]) == ("warning", ["b"])
    (retyped,) = evaluate_history(_profile({"a": [1.5, 2.5]}), base, dataset="d")
    assert retyped.severity == "error"
    assert retyped.attributes["type_changed"] == {"a": ["Int64", "Float64"]}


@pytest.mark.parametrize(
    ("field", "value"),
    [("null_rate_min_increase", 0), ("null_rate_min_increase", 1.5), ("noise_sigmas", -1),
     ("min_history_runs", 0), ("row_count_min_drop", "half"), ("max_null_rate", float("nan")),
     ("columns", ["a"]), ("detect_constant", "yes")],
)
def test_bad_thresholds_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        QualityThresholds(**{field: value})
    assert field in str(info.value)
    assert info.value.code == "quality_invalid_threshold"


def test_thresholds_from_mapping_rejects_unknown_fields() -> None:
    thresholds = QualityThresholds.from_mapping({"noise_sigmas": 2, "columns": {"a": {}}})
    assert thresholds.noise_sigmas == 2
    with pytest.raises(ValidationError, match="nul_rate"):
        QualityThresholds.from_mapping({"nul_rate": 1})
    with pytest.raises(ValidationError, match="ignor"):
        QualityThresholds(columns={"a": {"ignor": True}})
