"""The user's seed scripts run unmodified and print expected_output.txt exactly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SEED_DIR = Path(__file__).resolve().parents[3] / "shared" / "seed_examples"
SEED = "case07_seed_batch_monitoring_data.py"
ANALYZE = "case07_analyze_batch_monitoring.py"

pytestmark = pytest.mark.skipif(not SEED_DIR.is_dir(), reason=f"no seed examples at {SEED_DIR}")


def _run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTA_")}
    return subprocess.run(
        [sys.executable, script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _record_count(workspace: Path) -> int:
    from contexta import Contexta

    with Contexta(workspace=workspace) as ctx:
        return ctx.record_store.count_records()


def test_seed_scripts_print_expected_output_byte_for_byte(tmp_path: Path) -> None:
    for script in (SEED, ANALYZE):
        shutil.copy(SEED_DIR / script, tmp_path / script)
    expected = (SEED_DIR / "expected_output.txt").read_text(encoding="utf-8")

    seed = _run(SEED, tmp_path)
    analyze = _run(ANALYZE, tmp_path)
    assert seed.returncode == 0, seed.stderr
    assert analyze.returncode == 0, analyze.stderr
    assert seed.stderr == "", "the library must not print"
    assert analyze.stderr == "", "the library must not print"
    assert seed.stdout + analyze.stdout == expected

    records_once = _record_count(tmp_path / ".contexta")
    assert records_once == 22

    again = _run(SEED, tmp_path)
    assert again.returncode == 0, again.stderr
    analyze_again = _run(ANALYZE, tmp_path)
    assert again.stdout + analyze_again.stdout == expected
    assert _record_count(tmp_path / ".contexta") == records_once
