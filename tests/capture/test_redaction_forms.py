"""Secrets written as ``key=value`` inside text are masked (contract §8.7).

Covers the stored command line (``Run.metadata["contexta.command_line"]``) and the
environment snapshot values: assignment words (``PASSWORD=x``), query strings
(``?access_token=x``, ``&password=x``) and libpq keyword strings
(``host=h password=x``). Only the value is masked; non-secret keys stay as given,
and ``redaction_mode="off"`` stores everything verbatim.
"""

from __future__ import annotations

import sys
import time

import pytest

from contexta.capture._redaction import REDACTED, Redactor

PATTERNS = ["token", "secret", "password", "passwd", "key", "pwd"]
ARGV = ["train.py", "PASSWORD=argv7", "MYSQL_PWD=x9", "--token=t1",
        "https://h/?access_token=pwQ", "jdbc:postgresql://h/db?user=u&password=pwP",
        "host=h password=kw2", "--epochs=5", "HOST=h"]
SECRETS = ("argv7", "x9", "t1", "pwQ", "pwP", "kw2")


@pytest.fixture
def odd_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ``sys.argv`` and environment a run start reads."""
    monkeypatch.setattr(sys, "argv", ARGV)
    monkeypatch.setenv("DSN2", "host=h password=kw2")
    monkeypatch.setenv("DB_URL", "jdbc:postgresql://h/db?user=u&password=pwP")


def _stored(make_ctx, mode: str) -> tuple[str, dict[str, str]]:
    ctx = make_ctx("redact", security={"redaction_mode": mode, "secret_key_patterns": PATTERNS},
                   capture={"capture_environment_snapshot": True})
    with ctx.run("r") as run:
        pass
    line = ctx.metadata_store.runs.get_run(run.ref).metadata["contexta.command_line"]
    (snapshot,) = ctx.metadata_store.environments.list_environment_snapshots(run.ref)
    return line, dict(snapshot.environment_variables)


@pytest.mark.usefixtures("odd_process")
def test_secret_values_are_masked_and_keys_kept(make_ctx) -> None:
    line, env = _stored(make_ctx, "safe_default")
    assert not [secret for secret in SECRETS if secret in line]
    for kept in (f"PASSWORD={REDACTED}", f"MYSQL_PWD={REDACTED}", f"--token={REDACTED}",
                 f"?access_token={REDACTED}", f"user=u&password={REDACTED}",
                 f"host=h password={REDACTED}", "--epochs=5", "HOST=h"):
        assert kept in line
    assert env["DSN2"] == f"host=h password={REDACTED}"
    assert env["DB_URL"] == f"jdbc:postgresql://h/db?user=u&password={REDACTED}"


@pytest.mark.usefixtures("odd_process")
def test_redaction_off_stores_everything_verbatim(make_ctx) -> None:
    line, env = _stored(make_ctx, "off")
    assert all(secret in line for secret in SECRETS)
    assert env["DSN2"] == "host=h password=kw2"


@pytest.mark.parametrize(("text", "expected"), [
    ("host=h password='a b' port=5", f"host=h password={REDACTED} port=5"),
    ("x=1&api_key=abc#frag", f"x=1&api_key={REDACTED}#frag"),
    ("--password=abc --port=5", f"--password={REDACTED} --port=5"),
    ("rs=0:di=01;34:ln=01;36", "rs=0:di=01;34:ln=01;36"),
    ("password=", "password="),
    ("/usr/bin:/bin", "/usr/bin:/bin"),
])
def test_mask_secrets_forms(text: str, expected: str) -> None:
    assert Redactor("safe_default", PATTERNS, ()).mask_secrets(text) == expected


def test_masking_a_large_environment_stays_cheap() -> None:
    redactor = Redactor("safe_default", PATTERNS, ())
    environ = {f"VAR_{i}": f"host=h{i} user=u port={i} opt=a&b=c" for i in range(5000)}
    started = time.perf_counter()
    masked = redactor.environment(environ)
    assert time.perf_counter() - started < 1.0
    assert masked["VAR_7"] == environ["VAR_7"]
