"""A workspace root that is a regular file is refused clearly, by the API and the CLI, and
the file is left as it was (reads never treat it as an empty workspace)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.errors import StoreAccessError
from contexta.recovery import replay_outbox


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "workspace.txt"
    path.write_text("my notes", encoding="utf-8")
    return path


def test_reads_raise_a_store_error_naming_the_path(a_file: Path) -> None:
    ctx = Contexta(workspace=a_file)
    with pytest.raises(StoreAccessError) as caught:
        ctx.list_runs()
    assert caught.value.code == "store_io_error"
    assert str(a_file) in str(caught.value)
    assert "is a file" in str(caught.value)
    assert a_file.read_text(encoding="utf-8") == "my notes"


@pytest.mark.parametrize("command", [["runs"], ["recover", "outbox"]])
def test_the_cli_reports_it_and_exits_1(a_file: Path, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "contexta", "--workspace", str(a_file), *command],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("ERROR [store_io_error]:")
    assert "is a file" in done.stderr


def test_replay_refuses_it_too(a_file: Path) -> None:
    with pytest.raises(StoreAccessError, match="is a file"):
        replay_outbox(Contexta(workspace=a_file).config)
