"""CLI through click's CliRunner isolation (in process) and through real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import click
import pytest
from click.testing import CliRunner

from contexta import Contexta
from contexta.surfaces.cli import cli, main

SEEDS = Path("/work/shared/seed_examples")


class Result(NamedTuple):
    code: int
    out: str
    err: str


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    with runner.isolation(env=env) as (out, err, _):
        code = main(list(args))
    return Result(code, out.getvalue().decode(), err.getvalue().decode())


def _frame(rows: int, *, broken: bool) -> Any:
    import polars as pl

    return pl.DataFrame({
        "amount": [float(i % 17) + 1.0 for i in range(rows)],
        "score": [0.0] * rows if broken else [0.1 + (i % 9) / 10 for i in range(rows)],
    })


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three healthy nights and a night whose ``score`` column collapsed to zeros."""
    root = tmp_path_factory.mktemp("cli") / "ws"
    with Contexta(profile="test", workspace=root) as ctx:
        for night in range(1, 5):
            with ctx.run(f"night-{night}") as run, run.stage("features") as stage:
                stage.profile(_frame(400 + night, broken=night == 4), name="features")
    return str(root)


def ws_args(workspace: str, *args: str) -> list[str]:
    return ["--workspace", workspace, "--profile", "test", *args]


def test_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.code == 0
    for name in ("check", "summary", "runs", "diagnostics", "run"):
        assert name in result.out
    assert invoke("run", "--help").out.count("list") >= 1


def test_every_command_has_help() -> None:
    commands = dict(cli.commands)
    run_group = commands.pop("run")
    assert isinstance(run_group, click.Group)
    commands.update({f"run {name}": command for name, command in run_group.commands.items()})
    for name, command in commands.items():
        assert command.help, name


@pytest.mark.parametrize(
    "args",
    [["bogus"], ["--format", "xml", "runs"], ["runs", "--limit", "0"],
     ["--set", "no-equals-sign", "runs"], ["diagnostics"], ["check", "--fail-on", "fatal", "x"]],
)
def test_usage_errors_exit_2_with_one_error_line(args: list[str]) -> None:
    result = invoke(*args)
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ERROR [usage_error]: ")


def test_unknown_run_is_a_handled_error(workspace: str) -> None:
    result = invoke(*ws_args(workspace, "check", "no-such-run"))
    assert result.code == 1
    assert result.err.startswith("ERROR [query_run_not_found]: ")
    assert result.out == ""
    as_json = invoke(*ws_args(workspace, "--format", "json", "check", "no-such-run"))
    assert as_json.code == 1
    error = json.loads(as_json.err)["error"]
    assert error["code"] == "query_run_not_found"
    assert set(error) == {"code", "message", "details"}


def test_check_latest_run_of_project_fails_on_the_collapse(workspace: str) -> None:
    result = invoke(*ws_args(workspace, "check", "--project", "test"))
    assert result.code == 1, result.err
    assert "night-4" in result.out
    assert "zero_collapse" in result.out
    assert result.out.rstrip().endswith("FAIL")


def test_check_json_is_one_strict_document(workspace: str) -> None:
    result = invoke(*ws_args(workspace, "--format", "json", "check", "--project", "test"))
    assert result.code == 1
    document = json.loads(result.out, parse_constant=_reject_constant)
    assert document["failed"] is True
    assert document["fail_on"] == "warning"
    assert document["run"]["name"] == "night-4"
    codes = {issue["code"] for issue in document["diagnostics"]["issues"]}
    assert "zero_collapse" in codes


def _reject_constant(name: str) -> None:
    msg = f"non-strict JSON constant {name}"
    raise AssertionError(msg)


def test_check_first_run_passes(workspace: str) -> None:
    result = invoke(*ws_args(workspace, "check", "night-1", "--fail-on", "error"))
    assert result.code == 0, result.out + result.err
    assert result.out.rstrip().endswith("OK")


def test_summary_one_line_per_run(workspace: str) -> None:
    result = invoke(*ws_args(workspace, "summary", "--project", "test"))
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["night-1", "night-2", "night-3", "night-4"]
    assert lines[0].startswith("night-1: status=completed, rows=401, ")
    assert "features.score=0.0000" in lines[0]
    assert lines[0].endswith("flags=ok")
    assert "zero_collapse" in lines[-1].split("flags=")[1]
    assert "1 flagged" in result.err  # the status line


def test_summary_json_and_quiet(workspace: str) -> None:
    result = invoke(*ws_args(workspace, "--quiet", "--format", "json", "summary", "--limit", "2"))
    assert result.code == 0
    assert result.err == ""
    document = json.loads(result.out)
    assert document["project"] == "test"
    names = [run["name"] for run in document["runs"]]
    assert names == ["night-3", "night-4"]
    last = document["runs"][-1]
    assert last["rows"] == {"features": 404}
    assert last["row_count"] == 404
    assert last["null_rates"] == {"features.amount": 0.0, "features.score": 0.0}
    assert "zero_collapse" in last["flags"]
    assert last["highest_severity"] == "error"


def test_runs_and_run_list_are_the_same_command(workspace: str) -> None:
    runs = invoke(*ws_args(workspace, "--quiet", "runs"))
    run_list = invoke(*ws_args(workspace, "--quiet", "run", "list"))
    assert runs.code == run_list.code == 0
    assert runs.out == run_list.out
    assert [line.split()[0] for line in runs.out.splitlines()[1:]] == [
        "night-1", "night-2", "night-3", "night-4"]
    newest = invoke(*ws_args(workspace, "--format", "json", "runs", "--desc", "--limit", "1"))
    assert [run["name"] for run in json.loads(newest.out)["runs"]] == ["night-4"]


def test_diagnostics_fail_on(workspace: str) -> None:
    assert invoke(*ws_args(workspace, "diagnostics", "night-4")).code == 0
    failing = invoke(*ws_args(workspace, "run", "diagnose", "night-4", "--fail-on", "error"))
    assert failing.code == 1
    assert "zero_collapse" in failing.out


def test_set_overrides_reach_the_configuration(workspace: str) -> None:
    result = invoke(*ws_args(workspace, "--set", "surfaces.cli.default_output_format=json",
                             "runs"))
    assert result.code == 0
    assert len(json.loads(result.out)["runs"]) == 4
    bad = invoke(*ws_args(workspace, "--set", "surfaces.cli.no_such_field=1", "runs"))
    assert bad.code == 1
    assert bad.err.startswith("ERROR [unknown_config_field]: ")


def test_config_file(tmp_path: Path, workspace: str) -> None:
    config = tmp_path / "contexta.json"
    config.write_text(json.dumps({"workspace": {"root_path": workspace},
                                  "surfaces": {"cli": {"default_output_format": "json"}}}))
    result = invoke("--profile", "test", "--config", str(config), "runs")
    assert result.code == 0, result.err
    assert len(json.loads(result.out)["runs"]) == 4
    missing = invoke("--config", str(tmp_path / "missing.toml"), "runs")
    assert missing.code == 1
    assert missing.err.startswith("ERROR [")


def test_interrupt_exits_130() -> None:
    @click.command("interrupt-me")
    def interrupt() -> None:
        raise KeyboardInterrupt

    cli.add_command(interrupt)
    try:
        result = invoke("interrupt-me")
    finally:
        cli.commands.pop("interrupt-me")
    assert result.code == 130
    # click writes a newline after ^C before our line
    assert result.err.strip() == "ERROR [interrupted]: interrupted"


def _python_m(*args: str, cwd: Path, env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTA_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "contexta", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_python_m_contexta_check_in_a_subprocess(workspace: str, tmp_path: Path) -> None:
    process = _python_m(*ws_args(workspace, "--format", "json", "check", "--project", "test"),
                        cwd=tmp_path)
    assert process.returncode == 1, process.stderr
    assert json.loads(process.stdout)["failed"] is True
    assert process.stderr == ""


def test_text_survives_an_ascii_terminal(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Contexta(profile="test", workspace=root) as ctx, ctx.run("Données nocturnes ✓"):
        pass
    process = _python_m("--workspace", str(root), "--profile", "test", "runs", cwd=tmp_path,
                        env={"PYTHONIOENCODING": "ascii"})
    assert process.returncode == 0, process.stderr
    assert "Donn?es nocturnes ?" in process.stdout


def test_summary_of_the_seed_data(tmp_path: Path) -> None:
    for script in SEEDS.glob("*.py"):
        shutil.copy(script, tmp_path / script.name)
    seed = subprocess.run([sys.executable, "case07_seed_batch_monitoring_data.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert seed.returncode == 0, seed.stderr
    process = _python_m("summary", "--project", "nightly-etl-feature-engineering", cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    lines = process.stdout.strip().splitlines()
    assert len(lines) == 7
    assert lines[0] == ("etl-night-01: status=completed, rows=118200, "
                        "feature-null-rate=0.0020, flags=ok")
    assert lines[4].startswith("etl-night-05: status=completed, rows=0, feature-null-rate=1.0000")
    assert {"degraded_record", "null_rate_spike"} <= set(lines[4].split("flags=")[1].split(","))
    assert all(line.endswith("flags=ok") for i, line in enumerate(lines) if i != 4)


@pytest.mark.parametrize("command", ["runs", "summary"])
def test_a_missing_workspace_is_named_not_shown_as_an_empty_project(tmp_path: Path,
                                                                   command: str) -> None:
    missing = tmp_path / "typo"
    done = invoke(*ws_args(str(missing), command))
    assert done.code == 0
    assert done.out == ""
    assert f"workspace {missing} does not exist" in done.err
    assert not missing.exists()


def test_check_without_a_run_takes_the_configured_project(workspace: str) -> None:
    explicit = invoke(*ws_args(workspace, "check", "--project", "test"))
    configured = invoke(*ws_args(workspace, "--set", "project_name=test", "check"))
    assert configured.code == explicit.code == 1
    assert configured.out == explicit.out
    other = invoke(*ws_args(workspace, "--set", "project_name=nothing-here", "check"))
    assert other.code == 1
    assert "'nothing-here' has no runs" in other.err
