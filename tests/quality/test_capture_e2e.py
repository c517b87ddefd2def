"""The whole path: capture scopes profile real frames into a real workspace; history
checks flag the broken night; ``diagnose_run`` reports the findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from contexta import Contexta
from contexta.quality import FrameProfile

DQ_CODES = {"schema_change", "null_rate_spike", "zero_collapse", "degraded_record"}
VENDOR_CUSTOMERS = 300


@pytest.fixture
def ctx(tmp_path: Path) -> Any:
    with Contexta(profile="test", workspace=tmp_path / "ws") as contexta:
        yield contexta


def _nightly_etl(ctx: Any, build: Callable[..., Any], backend: str, rng: np.random.Generator,
                 *, vendor_renamed: bool) -> tuple[str, FrameProfile, FrameProfile]:
    """A nightly job: profile the vendor feed, join it into the order features, fill gaps.

    The job reads the vendor column it expects by name; when the vendor renames it, the
    tolerant reader yields NULLs, the join carries them and ``fill_null(0)`` hides them.
    """
    import narwhals as nw

    n = int(rng.normal(1500, 60))
    orders = build(backend, {
        "order_id": ("int", list(range(n))),
        "customer_id": ("int", rng.integers(0, 350, n).tolist()),
        "amount": ("float", [None if m else float(v) for v, m in
                             zip(rng.gamma(2.0, 20.0, n), rng.random(n) < 0.01, strict=True)]),
    })
    score = "vendor_score_v2" if vendor_renamed else "vendor_score"
    vendor = build(backend, {
        "customer_id": ("int", list(range(VENDOR_CUSTOMERS))),
        score: ("float", rng.uniform(0.05, 1.0, VENDOR_CUSTOMERS).tolist()),
        "tier": ("str", rng.choice(["gold", "silver", "bronze"], VENDOR_CUSTOMERS).tolist()),
    })
    with ctx.run("nightly-etl") as run:
        with run.stage("ingest") as stage:
            vendor_profile = stage.profile(vendor, name="vendor")
        with run.stage("features") as stage:
            left, right = nw.from_native(orders), nw.from_native(vendor)
            if "vendor_score" not in right.columns:
                right = right.with_columns(nw.lit(None, dtype=nw.Float64()).alias("vendor_score"))
            joined = left.join(right.select("customer_id", "vendor_score"), on="customer_id",
                               how="left")
            features = joined.with_columns(nw.col("vendor_score").fill_null(0.0))
            feature_profile = stage.profile(nw.to_native(features), name="features")
        run_ref = run.ref
    return str(run_ref), vendor_profile, feature_profile


def _issues(ctx: Any, run_ref: str) -> list[Any]:
    return list(ctx.diagnose_run(run_ref).issues)


def test_renamed_vendor_column_is_caught_without_a_written_check(
        ctx: Any, backend: str, build: Callable[..., Any]) -> None:
    rng = np.random.default_rng(7)
    healthy_refs = []
    for _ in range(6):
        run_ref, vendor_profile, feature_profile = _nightly_etl(ctx, build, backend, rng,
                                                                vendor_renamed=False)
        healthy_refs.append(run_ref)
        assert vendor_profile.findings == ()
        assert feature_profile.findings == ()
        # anomalous_metric is the interpretation layer's generic z-score rule; the
        # data-quality codes and degraded records must stay silent on healthy nights
        assert [i.code for i in _issues(ctx, run_ref) if i.code in DQ_CODES] == []

    run_ref, vendor_profile, feature_profile = _nightly_etl(ctx, build, backend, rng,
                                                            vendor_renamed=True)
    (schema,) = vendor_profile.findings
    assert schema.issue_key == "dq.schema_change"
    assert schema.attributes["removed"] == ["vendor_score"]
    assert schema.attributes["added"] == ["vendor_score_v2"]
    assert schema.attributes["baseline_run_id"] == healthy_refs[-1]
    (collapse,) = feature_profile.findings
    assert (collapse.issue_key, collapse.column, collapse.severity) == (
        "dq.zero_collapse", "vendor_score", "error")
    assert collapse.attributes["baseline_run_refs"] == healthy_refs[::-1]
    assert collapse.attributes["value"] == 1.0

    issues = {(i.code, i.details.get("dataset"), i.details.get("column")): i
              for i in _issues(ctx, run_ref)}
    assert ("schema_change", "vendor", None) in issues
    assert ("zero_collapse", "features", "vendor_score") in issues
    assert issues[("zero_collapse", "features", "vendor_score")].severity == "error"


def test_findings_are_stored_as_verification_degraded_records(
        ctx: Any, build: Callable[..., Any]) -> None:
    rng = np.random.default_rng(3)
    for _ in range(3):
        _nightly_etl(ctx, build, "polars", rng, vendor_renamed=False)
    run_ref, _, _ = _nightly_etl(ctx, build, "polars", rng, vendor_renamed=True)
    records = ctx.get_run_snapshot(run_ref).records
    degraded = [r for r in records if r.record_type == "degraded"]
    assert sorted(r.key for r in degraded) == ["dq.schema_change", "dq.zero_collapse"]
    for record in degraded:
        assert record.payload["category"] == "verification"
        attributes = record.payload["attributes"]
        # the schema is compared with the latest baseline, statistics with all of them
        expected = 1 if record.key == "dq.schema_change" else 3
        assert len(attributes["baseline_run_refs"]) == expected
        assert attributes["stage_name"] in ("ingest", "features")
    collapse = next(r for r in degraded if r.key == "dq.zero_collapse")
    assert collapse.payload["attributes"]["metric"] == "features.vendor_score.zero_rate"
    metrics = {r.key: r for r in records if r.record_type == "metric"}
    row_count = metrics["features.row_count"]
    assert row_count.tags == {
        "dq.stat": "row_count", "dq.dataset": "features", "dq.source": "contexta.quality"
    }
    assert metrics["features.vendor_score.zero_rate"].value == 1.0
    assert metrics["features.vendor_score.null_rate"].tags["dq.column"] == "vendor_score"
    events = [r for r in records if r.record_type == "event" and r.key == "vendor.schema"]
    (schema_event,) = events
    assert schema_event.payload["attributes"]["dataset"] == "vendor"
    assert schema_event.payload["attributes"]["columns"]["vendor_score_v2"] == "Float64"


def _healthy_frame(rng: np.random.Generator) -> Any:
    import pandas as pd

    n = int(rng.normal(1500, 120))
    amount = rng.gamma(2.0, 15.0, n)
    amount[rng.random(n) < rng.uniform(0.002, 0.02)] = np.nan
    return pd.DataFrame({
        "amount": amount,
        "quantity": rng.integers(0, 6, n),
        "discount": np.where(rng.random(n) < rng.uniform(0.6, 0.75), 0.0, rng.uniform(1, 9, n)),
        "segment": rng.choice(["a", "b", "c", "d"], n),
        "currency": ["EUR"] * n,
        "is_member": rng.random(n) < rng.uniform(0.25, 0.35),
    })


def test_thirty_healthy_noisy_nights_raise_no_warning(ctx: Any) -> None:
    rng = np.random.default_rng(11)
    for night in range(30):
        with ctx.run("nightly") as run, run.stage("features") as stage:
            with stage.batch("daily") as batch:
                profile = batch.profile(_healthy_frame(rng), name="orders")
            assert profile.findings == (), (night, [f.summary for f in profile.findings])
    for run in ctx.list_runs():
        snapshot = ctx.get_run_snapshot(run.run_id)
        assert [r.key for r in snapshot.records if r.record_type == "degraded"] == []
        assert [i.code for i in _issues(ctx, run.run_id) if i.code in DQ_CODES] == []


def test_batch_history_prefers_the_same_batch_name(ctx: Any) -> None:
    import polars as pl

    clean = pl.DataFrame({"x": [1.0, 2.0, 3.0] * 10})
    tenth_null = pl.DataFrame({"x": [None, 2.0, 3.0] + [1.0, 2.0, 3.0] * 9})
    broken = pl.DataFrame({"x": [None] * 30}, schema={"x": pl.Float64})
    for night in range(3):
        with ctx.run("n") as run, run.stage("load") as stage:
            with stage.batch("eu") as batch:
                batch.profile(clean, name="t")
            with stage.batch(f"us-{night}") as batch:  # a name that never repeats
                batch.profile(tenth_null, name="t")
    with ctx.run("n") as run, run.stage("load") as stage:
        with stage.batch("eu") as batch:
            eu = batch.profile(broken, name="t")
        with stage.batch("us-new") as batch:
            us = batch.profile(broken, name="t")
    # "eu" compares with the three earlier "eu" batches only
    spike = next(f for f in eu.findings if f.issue_key == "dq.null_rate_spike")
    assert spike.attributes["baseline_values"] == [0.0, 0.0, 0.0]
    # "us-new" has no namesake: each earlier run contributes its latest profile of the
    # dataset in the stage, which was its "us-*" batch
    spike = next(f for f in us.findings if f.issue_key == "dq.null_rate_spike")
    assert spike.attributes["baseline_values"] == [pytest.approx(1 / 30)] * 3
    assert (spike.attributes["stage_name"], spike.attributes["batch_name"]) == ("load", "us-new")


def test_first_profile_runs_only_absolute_rules(ctx: Any) -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [None, None, 1.0], "b": [1, 2, 3]})
    with ctx.run("first") as run, run.stage("s") as stage:
        quiet = stage.profile(frame, name="d")
        limits = {"min_rows": 5, "columns": {"a": {"max_null_rate": 0.5}}}
        loud = stage.profile(frame, name="e", thresholds=limits)
    assert quiet.findings == ()
    expectations = [f.attributes["expectation"] for f in loud.findings]
    assert expectations == ["min_rows", "max_null_rate"]
    assert {f.issue_key for f in loud.findings} == {"dq.expectation_failed"}


def test_expect_records_one_degraded_record_per_violation(ctx: Any) -> None:
    import pyarrow as pa

    table = pa.table({"purchase_amount": pa.array([None, 5.0, 0.0, 7.5])})
    with ctx.run("expect") as run, run.stage("s") as stage:
        failed = stage.expect(table, column="purchase_amount", max_null_rate=0.01, min_rows=1000)
        passed = stage.expect(table, column="purchase_amount", max_null_rate=0.5, min_rows=2)
        missing = stage.expect(table, column="vendor_score", max_null_rate=0.5)
        run_ref = run.ref
    assert not failed.passed
    assert [f.attributes["expectation"] for f in failed.failures] == ["min_rows", "max_null_rate"]
    assert passed.passed
    assert passed.failures == ()
    assert [f.attributes["expectation"] for f in missing.failures] == ["column_present"]
    degraded = [r for r in ctx.get_run_snapshot(run_ref).records if r.record_type == "degraded"]
    assert [r.key for r in degraded] == ["dq.expectation_failed"] * 3
    assert {r.payload["severity"] for r in degraded} == {"error"}


@pytest.mark.parametrize(
    ("options", "field"),
    [({"name": ""}, "name"), ({"name": "a\nb"}, "name"), ({"name": 5}, "name"),
     ({"name": "d", "history_runs": 0}, "history_runs"),
     ({"name": "d", "thresholds": 5}, "thresholds"),
     ({"name": "d", "thresholds": {"noise": 1}}, "thresholds"),
     ({"name": "d", "checks": "yes"}, "checks"),
     ({"name": "d", "columns": ["nope"]}, "columns")],
)
def test_bad_profile_arguments_raise_validation_errors(ctx: Any, options: dict[str, Any],
                                                        field: str) -> None:
    import polars as pl

    from contexta.errors import ValidationError

    with ctx.run("bad") as run, run.stage("s") as stage:
        with pytest.raises(ValidationError, match=field):
            stage.profile(pl.DataFrame({"a": [1]}), **options)
        with pytest.raises(ValidationError, match="at least one of"):
            stage.expect(pl.DataFrame({"a": [1]}), column="a")
        run_ref = run.ref
    # arguments are checked before anything is recorded
    records = ctx.get_run_snapshot(run_ref).records
    assert [r.key for r in records if r.record_type in ("metric", "degraded")] == []
