"""``recover outbox`` and ``recover replay`` on real SQLite workspaces (contract §10.2, §11.4).

Outbox entries are made the way they happen: a ``Contexta`` opened read-only
(as in tests/capture/test_outbox.py) spools what it cannot store.
Damage is made with plain SQLite, as in tests/store/test_damage.py.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner

from contexta import Contexta
from contexta.config import merge_config_patch
from contexta.surfaces.cli import main

PROJECT = "recover"
QUIET = {"capture": {"capture_installed_packages": False, "capture_code_revision": False},
         "project_name": PROJECT}
READ_ONLY = {"metadata": {"read_only": True}, "records": {"read_only": True},
             "artifacts": {"read_only": True}}
READ_ONLY_SETS = ("--set", "metadata.read_only=true", "--set", "records.read_only=true",
                  "--set", "artifacts.read_only=true")


class Result(NamedTuple):
    code: int
    out: str
    err: str


def invoke(workspace: Path, *args: str) -> Result:
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        code = main(["--workspace", str(workspace), *args])
    return Result(code, out.getvalue().decode(), err.getvalue().decode())


def _strict_json(text: str) -> Any:
    def reject(name: str) -> None:
        raise AssertionError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=reject)


def _open(workspace: Path, **patch: Any) -> Contexta:
    return Contexta(workspace=str(workspace), config=merge_config_patch(QUIET, patch))


def _metric_steps(workspace: Path, run_name: str) -> list[int]:
    with _open(workspace) as ctx:
        snapshot = ctx.get_run_snapshot(run_name)
        return sorted(r.payload["step"] for r in snapshot.records if r.record_type == "metric")


@pytest.fixture
def spooled(tmp_path: Path) -> Path:
    """A workspace with one stored run and one run captured while it was read-only."""
    workspace = tmp_path / "ws"
    with _open(workspace) as ctx, ctx.run("before") as run:
        run.metric("rows", 10)
    with _open(workspace, **READ_ONLY) as ctx:
        with ctx.run("frozen") as run, run.stage("load") as stage:
            results = [stage.metric("rows", n, step=n) for n in range(3)]
        assert all(result.recovered_to_outbox for result in results)
    assert (workspace / "cache" / "outbox" / "outbox.jsonl").stat().st_size > 0
    return workspace


def test_recover_outbox_stores_spooled_captures_once(spooled: Path) -> None:
    with _open(spooled) as ctx:
        assert [run.name for run in ctx.list_runs(PROJECT)] == ["before"]

    result = invoke(spooled, "recover", "outbox")
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert first.startswith("SUCCESS: ")
    assert ", 0 pending, 0 dead-lettered" in first
    assert int(first.split()[1]) >= 5  # run, stage, three metrics, marker, …
    assert _metric_steps(spooled, "frozen") == [0, 1, 2]

    again = invoke(spooled, "recover", "outbox")
    assert again.code == 0, again.err
    assert again.out.splitlines() == ["SUCCESS: 0 replayed, 0 pending, 0 dead-lettered"]
    assert "nothing to replay" in again.err
    assert _metric_steps(spooled, "frozen") == [0, 1, 2]  # nothing doubled


def test_recover_outbox_json_is_the_batch_result(spooled: Path) -> None:
    result = invoke(spooled, "--format", "json", "recover", "outbox", "--limit", "2")
    assert result.code == 1, result.err  # entries beyond the limit are still pending
    document = _strict_json(result.out)
    assert document["status"] == "DEGRADED"
    assert document["acknowledged_count"] == 2
    assert document["pending_count"] > 0
    assert [entry["status"] for entry in document["entries"]] == ["SUCCESS", "SUCCESS"]
    assert set(document["entries"][0]) == {"replay_ref", "family", "target", "status",
                                           "detail", "attempts"}
    assert document["details"]["outbox_root"] == str(spooled / "cache" / "outbox")

    rest = invoke(spooled, "--format", "json", "recover", "outbox")
    assert rest.code == 0, rest.err
    document = _strict_json(rest.out)
    assert (document["status"], document["pending_count"]) == ("SUCCESS", 0)
    assert _metric_steps(spooled, "frozen") == [0, 1, 2]


def test_recover_outbox_on_a_still_read_only_workspace_keeps_every_entry(spooled: Path) -> None:
    pending = (spooled / "cache" / "outbox" / "outbox.jsonl").read_text().splitlines()
    failed = invoke(spooled, *READ_ONLY_SETS, "recover", "outbox")
    assert failed.code == 1
    lines = failed.out.splitlines()
    assert lines[0] == f"FAILURE: 0 replayed, {len(pending)} pending, 0 dead-lettered"
    assert len(lines) == 1 + len(pending)  # one line per failed entry, with its detail
    assert all(line.lstrip().startswith("FAILURE ") for line in lines[1:])
    assert "ReadOnlyStoreError" in lines[1]
    still = (spooled / "cache" / "outbox" / "outbox.jsonl").read_text().splitlines()
    assert len(still) == len(pending)  # nothing lost

    recovered = invoke(spooled, "recover", "outbox")
    assert recovered.code == 0, recovered.err
    assert _metric_steps(spooled, "frozen") == [0, 1, 2]


def test_recover_outbox_dead_letters_after_repeated_failures(spooled: Path) -> None:
    result = invoke(spooled, "--format", "json", *READ_ONLY_SETS, "recover", "outbox",
                    "--dead-letter-after", "1")
    assert result.code == 1
    document = _strict_json(result.out)
    assert document["pending_count"] == 0
    assert document["dead_lettered_count"] == len(document["entries"]) > 0
    assert {entry["status"] for entry in document["entries"]} == {"DEAD_LETTERED"}
    assert (spooled / "cache" / "outbox" / "dead-letter.jsonl").stat().st_size > 0


def test_recover_outbox_counts_attempts_across_invocations(spooled: Path) -> None:
    first = invoke(spooled, *READ_ONLY_SETS, "recover", "outbox", "--dead-letter-after", "2")
    assert first.code == 1
    second = invoke(spooled, "--format", "json", *READ_ONLY_SETS, "recover", "outbox",
                    "--dead-letter-after", "2")
    assert second.code == 1
    assert _strict_json(second.out)["dead_lettered_count"] > 0


def test_recover_outbox_in_a_subprocess(spooled: Path) -> None:
    """The console program: exit code and stdout as a scheduler sees them."""
    done = subprocess.run(
        [sys.executable, "-m", "contexta", "--workspace", str(spooled), "--quiet",
         "recover", "outbox"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("SUCCESS: ")
    assert done.stderr == ""


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    with _open(workspace) as ctx:
        with ctx.run("first") as run, run.stage("load") as stage:
            stage.metric("rows", 3)
            stage.event("loaded", "three rows")
        with ctx.run("second") as run:
            run.metric("rows", 4)
    return workspace


def test_recover_replay_counts_records(healthy: Path) -> None:
    result = invoke(healthy, "recover", "replay")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "3 record(s) (1 event, 2 metric); mode tolerant, integrity healthy, 0 known gap(s)"]
    strict = invoke(healthy, "recover", "replay", "--mode", "strict")
    assert strict.code == 0, strict.err
    assert "mode strict, integrity healthy" in strict.out


def test_recover_replay_filters(healthy: Path) -> None:
    by_stage = invoke(healthy, "recover", "replay", "--run", "first", "--stage", "load",
                      "--record-type", "metric")
    assert by_stage.code == 0, by_stage.err
    assert by_stage.out.startswith("1 record(s) (1 metric);")
    document = _strict_json(invoke(healthy, "--format", "json", "recover", "replay",
                                   "--run", "second").out)
    assert document["record_count"] == 1
    assert document["mode"] == "tolerant"
    assert document["integrity_state"] == "healthy"
    assert document["known_gaps"] == []
    assert document["records"][0]["record"]["payload"]["value"] == 4

    unknown = invoke(healthy, "recover", "replay", "--run", "no-such-run")
    assert (unknown.code, unknown.out) == (1, "")
    assert unknown.err.startswith("ERROR [query_run_not_found]: ")


def test_recover_replay_mode_default_comes_from_the_config(healthy: Path) -> None:
    result = invoke(healthy, "--set", "recovery.replay_mode_default=strict", "recover", "replay")
    assert result.code == 0, result.err
    assert "mode strict" in result.out


def test_recover_replay_on_a_damaged_store(healthy: Path) -> None:
    with sqlite3.connect(healthy / "metadata" / "contexta.sqlite3") as conn:
        conn.execute("UPDATE records SET body = '{broken' WHERE record_type = 'event'")

    tolerant = invoke(healthy, "recover", "replay")
    assert tolerant.code == 0, tolerant.err
    lines = tolerant.out.splitlines()
    assert lines[0] == "2 record(s) (2 metric); mode tolerant, integrity corrupted, 1 known gap(s)"
    assert lines[1].startswith("  GAP unreadable_record: ")

    strict = invoke(healthy, "recover", "replay", "--mode", "strict")
    assert (strict.code, strict.out) == (1, "")
    assert strict.err.startswith("ERROR [record_replay_unhealthy_store]: ")
    assert len(strict.err.strip().splitlines()) == 1

    as_json = invoke(healthy, "--format", "json", "recover", "replay", "--mode", "strict")
    assert as_json.code == 1
    assert _strict_json(as_json.err)["error"]["code"] == "record_replay_unhealthy_store"


@pytest.mark.parametrize("args", [
    ["recover", "outbox", "--limit", "0"],
    ["recover", "outbox", "--dead-letter-after", "0"],
    ["recover", "replay", "--mode", "bogus"],
    ["recover", "replay", "--record-type", "row"],
    ["recover", "replay", "--stage", "load"],  # a stage name needs its run
    ["recover", "bogus"],
])
def test_recover_usage_errors_exit_2_with_one_line(tmp_path: Path, args: list[str]) -> None:
    result = invoke(tmp_path / "ws", *args)
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ERROR [usage_error]: ")


def test_recover_help_lists_both_commands(tmp_path: Path) -> None:
    result = invoke(tmp_path / "ws", "recover", "--help")
    assert result.code == 0
    assert "outbox" in result.out
    assert "replay" in result.out
