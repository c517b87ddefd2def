"""POSIX file names are bytes: a name that is not UTF-8 can still be registered, its
stored location shows the odd bytes as ``\\xNN`` escapes, and the body is kept exactly."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from contexta.capture import ResultStatus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX byte file names")


def _odd_name(folder: Path, stem: bytes) -> str:
    return os.fsdecode(os.fsencode(folder) + b"/" + stem + b"-\xff.bin")


def test_a_non_utf8_file_name_is_registered_with_an_escaped_location(make_ctx,
                                                                     tmp_path: Path) -> None:
    path = _odd_name(tmp_path, b"model")
    Path(path).write_bytes(b"weights")
    ctx = make_ctx()
    with ctx.run("odd names") as run:
        result = run.register_artifact("model", path)
    assert result.status is ResultStatus.SUCCESS
    location = result.payload.location_ref
    assert location.endswith("model-\\xff.bin")
    assert location.encode("utf-8")  # valid text
    assert ctx.artifact_store.read_artifact_bytes(str(result.payload.artifact_ref)) == b"weights"


def test_a_missing_non_utf8_file_leaves_a_marker_not_an_error(make_ctx, tmp_path: Path) -> None:
    ctx = make_ctx()
    with ctx.run("odd names") as run:
        result = run.register_artifact("model", _odd_name(tmp_path, b"gone"), allow_missing=True)
    assert result.status is ResultStatus.DEGRADED
    issues = ctx.diagnose_run(run.ref).issues
    (issue,) = [i for i in issues if i.code == "degraded_record"]
    assert "gone-\\xff.bin" in issue.summary


@pytest.mark.parametrize(("odd", "shown"), [
    ("tab\tx", "tab\\x09x"), ("line\nbreak", "line\\x0abreak"), ("esc\x1b[0m", "esc\\x1b[0m"),
])
def test_control_characters_in_a_file_name_are_escaped(make_ctx, tmp_path: Path,
                                                       odd: str, shown: str) -> None:
    path = tmp_path / f"{odd}.txt"
    path.write_bytes(b"rows")
    ctx = make_ctx()
    with ctx.run("odd names") as run:
        result = run.register_artifact("dataset", path)
    assert result.status is ResultStatus.SUCCESS
    location = result.payload.location_ref
    assert location.endswith(f"{shown}.txt")
    assert ctx.artifact_store.read_artifact_bytes(str(result.payload.artifact_ref)) == b"rows"
