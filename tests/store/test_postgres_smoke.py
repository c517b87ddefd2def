"""The capture-to-diagnosis path on a real PostgreSQL server (the team store).

Runs against the server on 127.0.0.1:5432 (trust auth) in a database of its own, and is
skipped when no server answers. A psycopg statement takes named placeholders, so every
raw-cursor path (indexing records, metadata puts) has to bind mappings there.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture
def database_url() -> Iterator[str]:
    name = f"contexta_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(f"{SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"no PostgreSQL server on 127.0.0.1:5432: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _config(url: str) -> dict[str, object]:
    return {
        "project_name": "team",
        "metadata": {"database_url": url},
        "capture": {"capture_installed_packages": False, "capture_code_revision": False},
    }


_WRITER = """
import sys
from contexta import Contexta
ctx = Contexta(workspace=sys.argv[1], config={
    "project_name": "team", "metadata": {"database_url": sys.argv[2]},
    "capture": {"capture_installed_packages": False, "capture_code_revision": False}})
with ctx.run("from another process") as run, run.stage("load") as stage:
    stage.emit_metrics([{"key": "rows", "value": i, "step": i} for i in range(50)])
ctx.close()
"""


def test_capture_and_read_back_on_postgresql(database_url: str, tmp_path: Path) -> None:
    from contexta import Contexta

    ctx = Contexta(workspace=str(tmp_path / "ws"), config=_config(database_url))
    with ctx.run("nightly") as run, run.stage("features") as stage:
        with stage.batch("JFK") as batch:
            for step in range(5):
                batch.metric("loss", 1.0 / (step + 1), step=step)
            batch.emit_metrics([{"key": "rows", "value": v} for v in (10, 20, 30)])
            batch.event("loaded", message="vendor feed joined")
            batch.degraded("feed.late", "capture", "warning", "the feed came late")
        stage.metric("rows", 60)
    (listed,) = ctx.list_runs("team")
    assert (listed.name, listed.status) == ("nightly", "completed")
    snapshot = ctx.get_run_snapshot(run.ref)
    assert len(snapshot.records) == 11
    series = ctx.get_step_series(run.ref, "loss", stage_name="features")
    assert [point.step for point in series.points] == [0, 1, 2, 3, 4]
    codes = {issue.code for issue in ctx.diagnose_run(run.ref).issues}
    assert "degraded_record" in codes
    ctx.close()

    # A second process writes the same server; a fresh facade sees both runs.
    subprocess.run([sys.executable, "-c", _WRITER, str(tmp_path / "ws2"), database_url],
                   check=True, timeout=120)
    again = Contexta(workspace=str(tmp_path / "ws3"), config=_config(database_url))
    names = sorted(r.name for r in again.list_runs("team"))
    assert names == ["from another process", "nightly"]
    other = next(r for r in again.list_runs("team") if r.name == "from another process")
    assert len(again.get_run_snapshot(other.run_id).records) == 50
    again.close()
