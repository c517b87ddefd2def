"""``contexta summary`` counts a row quantity once (stage metric or its batches, not both)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from contexta import Contexta
from contexta.surfaces.cli import main


def _summary(root: Path, *args: str) -> Any:
    runner = CliRunner()
    argv = ["--workspace", str(root), "--profile", "test", "--quiet", "--format", "json",
            "summary", "--project", "test", *args]
    with runner.isolation() as (out, err, _):
        code = main(argv)
    assert code == 0, err.getvalue().decode()
    return json.loads(out.getvalue().decode())["runs"]


def _text_summary(root: Path) -> list[str]:
    runner = CliRunner()
    argv = ["--workspace", str(root), "--profile", "test", "--quiet", "summary",
            "--project", "test"]
    with runner.isolation() as (out, _err, _):
        assert main(argv) == 0
    return out.getvalue().decode().strip().splitlines()


def test_stage_metric_is_not_added_to_its_batches(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Contexta(profile="test", workspace=root) as ctx:
        with ctx.run("night") as run, run.stage("load") as stage:
            for name in ("a", "b"):
                with stage.batch(name) as batch:
                    batch.metric("rows", 50)
            stage.metric("rows", 100)
    (row,) = _summary(root)
    assert row["rows"] == {"rows": 100}
    assert row["row_count"] == 100
    assert _text_summary(root)[0].startswith("night: status=completed, rows=100, ")


def test_batches_are_summed_when_the_stage_has_no_metric(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Contexta(profile="test", workspace=root) as ctx:
        with ctx.run("night") as run, run.stage("load") as stage:
            for name, count in (("a", 30), ("b", 12)):
                with stage.batch(name) as batch:
                    batch.metric("rows", count - 1)
                    batch.metric("rows", count)  # latest value per batch
    (row,) = _summary(root)
    assert row["rows"] == {"rows": 42}


def test_the_run_shows_its_last_stage_not_the_largest(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Contexta(profile="test", workspace=root) as ctx, ctx.run("night") as run:
        with run.stage("extract") as stage:
            stage.metric("rows", 1000)
        with run.stage("write") as stage:
            for name in ("a", "b"):
                with stage.batch(name) as batch:
                    batch.metric("rows", 300)
            stage.metric("rows", 600)
    (row,) = _summary(root)
    assert row["rows"] == {"rows": 600}


def test_a_run_level_metric_wins_over_stages(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Contexta(profile="test", workspace=root) as ctx, ctx.run("night") as run:
        with run.stage("extract") as stage:
            stage.metric("rows", 900)
        run.metric("rows", 842)
    (row,) = _summary(root)
    assert row["rows"] == {"rows": 842}


def test_profiled_dataset_rows_are_not_doubled_by_batch_profiles(tmp_path: Path) -> None:
    import polars as pl

    root = tmp_path / "ws"
    with Contexta(profile="test", workspace=root) as ctx:
        with ctx.run("night") as run, run.stage("features") as stage:
            for name in ("a", "b"):
                with stage.batch(name) as batch:
                    batch.profile(pl.DataFrame({"x": [1.0] * 50}), name="features")
            stage.profile(pl.DataFrame({"x": [1.0] * 100}), name="features")
    (row,) = _summary(root)
    assert row["rows"] == {"features": 100}
