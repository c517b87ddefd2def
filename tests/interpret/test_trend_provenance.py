"""Trends (contract §5.12) and reproducibility / environment diffs (§5.14)."""

from __future__ import annotations

import pytest
from tests.interpret.builders import Builder, StoreTarget, day

from contexta.config.interpretation import TrendPolicy
from contexta.errors import NotFoundError, ValidationError
from contexta.interpretation import (
    CompositeStoreRepository,
    EnvironmentValueChange,
    ProvenanceService,
    QueryService,
    RunListQuery,
    TrendService,
)


@pytest.fixture
def env(ctx, tmp_path):
    builder = Builder(StoreTarget(ctx), "proj", tmp_path=tmp_path)
    qs = QueryService(
        CompositeStoreRepository(ctx.metadata_store, ctx.record_store, ctx.artifact_store)
    )
    return builder, qs


def test_metric_trend_window_order_and_notes(env):
    b, qs = env
    for night in range(1, 6):
        run = b.run(f"n{night}", started=day(night))
        stage = b.stage(run, "train")
        if night != 3:
            b.metric(run, "loss", 1.0 / night, stage=stage, observed=day(night, 2))
            b.metric(run, "loss", 10.0 + night, stage=stage, observed=day(night, 3))
    trend = TrendService(qs).get_metric_trend("loss", project_name="proj")
    assert trend.project_name == "proj"
    assert [p.run_id for p in trend.points] == [
        "run:proj.n1",
        "run:proj.n2",
        "run:proj.n4",
        "run:proj.n5",
    ]
    assert trend.values == (11.0, 12.0, 14.0, 15.0)
    assert trend.points[0].captured_at == day(1, 3)
    assert trend.points[0].stage_name == "train"
    assert [n.summary for n in trend.completeness_notes] == ["runs_without_metric:1"]
    small = TrendService(qs, config=TrendPolicy(default_window_runs=2, metric_aggregation="min"))
    narrow = small.get_metric_trend("loss", project_name="proj")
    assert narrow.values == (0.25, 0.2)
    limited = TrendService(qs).get_metric_trend(
        "loss", query=RunListQuery(project_name="proj", limit=2)
    )
    assert [p.run_name for p in limited.points] == ["n1", "n2"]
    assert TrendService(qs).get_metric_trend("loss", stage_name="other").points == ()
    assert TrendService(qs).get_metric_trend("loss", project_name="nobody").points == ()


def test_step_series_real_and_implicit_steps(env):
    b, qs = env
    run = b.run("r")
    train = b.stage(run, "train")
    evals = b.stage(run, "eval", order=1)
    b.metric(run, "loss", 0.9, stage=train, step=10, unit="nats")
    b.metric(run, "loss", 0.7, stage=train, step=2)
    b.metric(run, "loss", 0.8, stage=train, step=2)
    b.metric(run, "loss", 5, stage=evals)
    b.metric(run, "loss", 6, stage=evals)
    service = TrendService(qs)
    series = service.get_step_series(run, "loss", stage_name="train")
    assert [(p.step, p.value) for p in series.points] == [(2, 0.7), (2, 0.8), (10, 0.9)]
    assert series.stage_id == train
    assert series.unit == "nats"
    assert series.completeness_notes == ()
    implicit = service.get_step_series(run, "loss", stage_id="eval")
    assert [(p.step, p.value) for p in implicit.points] == [(0, 5.0), (1, 6.0)]
    assert [n.summary for n in implicit.completeness_notes] == ["implicit_steps:2"]
    every = service.get_step_series("r", "loss")
    assert len(every.points) == 5
    assert every.stage_id is None
    with pytest.raises(NotFoundError) as caught:
        service.get_step_series(run, "loss", stage_name="nope")
    assert caught.value.code == "query_stage_not_found"
    with pytest.raises(ValidationError):
        service.get_step_series(run, "")


def test_duration_and_artifact_size_trends(env):
    b, qs = env
    for night in (1, 2):
        run = b.run(f"n{night}", started=day(night))
        b.stage(run, "train", started=day(night, 1), ended=day(night, 1, 30))
        b.artifact(run, f"model-{night}", kind="model_bundle", body=b"x" * night)
    open_run = b.run("n3", started=day(3), status="open")
    b.stage(open_run, "train", status="open", started=day(3))
    service = TrendService(qs)
    durations = service.get_stage_duration_trend("train", project_name="proj")
    assert [p.duration_seconds for p in durations.points] == [1800.0, 1800.0]
    assert [n.summary for n in durations.completeness_notes] == ["open_stages_skipped:1"]
    sizes = service.get_artifact_size_trend("model_bundle", project_name="proj")
    assert [(p.run_name, p.size_bytes) for p in sizes.points] == [("n1", 1), ("n2", 2)]


def test_audit_reproducibility_statuses(env):
    b, qs = env
    service = ProvenanceService(qs)
    bare = b.run("bare")
    audit = service.audit_reproducibility(bare)
    assert audit.reproducibility_status == "missing"
    assert [n.summary for n in audit.completeness_notes] == [
        "environment_missing",
        "code_revision_missing",
        "provenance_missing",
    ]
    partial = b.run("partial", started=day(2))
    b.environment(
        partial, packages={"numpy": "2.0"}, variables={"HOME": "/root"}, git_commit="a" * 40
    )
    audit = service.audit_reproducibility(partial)
    assert audit.reproducibility_status == "partial"
    assert audit.code_revision == "a" * 40
    assert (audit.package_count, audit.environment_variable_count) == (1, 1)
    assert audit.python_version == "3.11.7"
    assert audit.hostname == "host-a"
    full = b.run("full", started=day(3), metadata={"code_revision": "v1", "config_hash": "h"})
    b.environment(full)
    audit = service.audit_reproducibility(full)
    assert audit.reproducibility_status == "complete"
    assert audit.code_revision == "v1"
    assert audit.completeness_notes == ()


def test_compare_environments(env):
    b, qs = env
    left = b.run("left")
    right = b.run("right", started=day(2))
    b.environment(left, packages={"numpy": "1.0", "gone": "1"}, variables={"A": "1"})
    b.environment(
        right,
        python="3.12.1",
        packages={"numpy": "2.0", "new": "3"},
        variables={"A": "2", "B": "x"},
    )
    diff = ProvenanceService(qs).compare_environments("left", "right")
    assert diff.python_version_changed
    assert not diff.platform_changed
    assert diff.added_packages == (EnvironmentValueChange("new", None, "3"),)
    assert diff.removed_packages == (EnvironmentValueChange("gone", "1", None),)
    assert diff.changed_packages == (EnvironmentValueChange("numpy", "1.0", "2.0"),)
    assert diff.changed_variables == (EnvironmentValueChange("A", "1", "2"),)
    assert diff.added_variables == (EnvironmentValueChange("B", None, "x"),)
    lonely = b.run("lonely", started=day(3))
    one_sided = ProvenanceService(qs).compare_environments(left, lonely)
    assert [n.summary for n in one_sided.completeness_notes] == ["environment_missing:right"]
    assert one_sided.added_packages == ()
    assert not one_sided.python_version_changed
