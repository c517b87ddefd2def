"""Passwords inside URLs are masked in the command line and environment (contract §8.7).

The command line is checked on a real interpreter started with the URL argument.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from contexta.capture._redaction import REDACTED, mask_url_passwords

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from contexta import Contexta

    ctx = Contexta(workspace=sys.argv[1], config={
        "project_name": "urls",
        "capture": {"capture_installed_packages": False, "capture_code_revision": False},
        "security": {"redaction_mode": sys.argv[2]},
    })
    with ctx.run("connect") as run:
        pass
    ctx.close()
    print(json.dumps({"run": run.ref}))
    """
)


def _run_script(workspace: Path, *args: str, mode: str = "safe_default") -> str:
    """Start a real ``python script.py WORKSPACE MODE ARGS...``; return its run ref."""
    script = workspace.parent / "script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "WAREHOUSE_URL": "mysql://etl:hunter2@db:3306/w"}
    done = subprocess.run([sys.executable, str(script), str(workspace), mode, *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["run"]  # type: ignore[no-any-return]


def _stored(make_ctx, run_ref: str) -> tuple[str, dict[str, str]]:
    """The stored command line and environment variables of ``run_ref``."""
    ctx = make_ctx("urls")
    line = ctx.metadata_store.runs.get_run(run_ref).metadata["contexta.command_line"]
    (snapshot,) = ctx.metadata_store.environments.list_environment_snapshots(run_ref)
    return line, dict(snapshot.environment_variables)


def test_url_password_in_argv_and_environment_is_masked(make_ctx, workspace: Path) -> None:
    run_ref = _run_script(workspace, "postgresql://user:pw123@host/db",
                             "--db-password=pw123", "--source=s3://key:sec@bucket/x")
    line, env = _stored(make_ctx, run_ref)
    assert "pw123" not in line
    assert "sec@" not in line
    assert f"postgresql://user:{REDACTED}@host/db" in line
    assert f"--source=s3://key:{REDACTED}@bucket/x" in line
    assert env["WAREHOUSE_URL"] == f"mysql://etl:{REDACTED}@db:3306/w"


def test_redaction_off_keeps_urls_verbatim(make_ctx, workspace: Path) -> None:
    run_ref = _run_script(workspace, "postgresql://user:pw123@host/db", mode="off")
    line, env = _stored(make_ctx, run_ref)
    assert "postgresql://user:pw123@host/db" in line
    assert env["WAREHOUSE_URL"] == "mysql://etl:hunter2@db:3306/w"


@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql://user:p@ss@host:5432/db?x=1",
     f"postgresql://user:{REDACTED}@host:5432/db?x=1"),
    ("redis://:secret@cache:6379/0", f"redis://:{REDACTED}@cache:6379/0"),
    ("jdbc:mysql://u:p@h/d and http://a:b@c",
     f"jdbc:mysql://u:{REDACTED}@h/d and http://a:{REDACTED}@c"),
    ("https://user@host/path", "https://user@host/path"),
    ("http://host/a:b@c", "http://host/a:b@c"),
    ("no url: a:b@c", "no url: a:b@c"),
])
def test_only_the_userinfo_password_is_masked(text: str, expected: str) -> None:
    assert mask_url_passwords(text) == expected
