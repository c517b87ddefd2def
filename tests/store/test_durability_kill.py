"""Kill safety (issue 3): what append, append_many or put_* acknowledged survives SIGKILL.

A child writes runs, stages and records and reports each acknowledged call
through a pipe right after it returns; the parent SIGKILLs it at a random
instant (during open and recovery of the previous child's spool, mid-append,
mid-indexing). After all rounds a fresh interpreter opens the workspace and
must find every acknowledged item exactly once, and every ``append_many``
either whole or absent.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

from tests.store import helpers_durability as helpers

ROUNDS = 24


def _drain(conn, into: list) -> None:
    while conn.poll():
        try:
            into.append(conn.recv())
        except EOFError:
            return


def _one_round(root: Path, round_no: int, rng: random.Random) -> list:
    """Start a writer, kill it after a random delay, return every message it sent."""
    process, conn = helpers.start("kill", str(root), round_no, rng.randrange(1 << 30))
    messages: list = []
    deadline = time.monotonic() + rng.uniform(0.02, 0.7)
    while time.monotonic() < deadline:
        if conn.poll(0.005):
            _drain(conn, messages)
    process.kill()
    process.join(30)
    _drain(conn, messages)
    conn.close()
    errors = [m for m in messages if m[0] == "error"]
    assert not errors, f"round {round_no}: the writer failed on its own:\n{errors[0][1]}"
    assert process.exitcode == -9, f"round {round_no}: writer exited with {process.exitcode}"
    return messages


def _verify_in_fresh_interpreter(root: Path) -> dict:
    out = subprocess.run(
        [sys.executable, helpers.__file__, "verify", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_everything_acknowledged_survives_sigkill_at_random_points(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    rng = random.Random(20250101)
    acked_records: set[str] = set()
    acked_runs: set[str] = set()
    acked_stages: set[str] = set()
    batches: list[list[str]] = []
    for round_no in range(ROUNDS):
        for message in _one_round(root, round_no, rng):
            kind = message[0]
            if kind == "rec":
                acked_records.add(message[1])
            elif kind == "recs":
                acked_records.update(message[1])
            elif kind == "intent":
                batches.append(message[1])
            elif kind == "run":
                acked_runs.add(message[1])
            elif kind == "stage":
                acked_stages.add(message[1])
    assert len(acked_records) > 100, "the writers were killed before acknowledging much"

    found = _verify_in_fresh_interpreter(root)

    refs, seqs = found["refs"], found["seqs"]
    assert not acked_records - set(refs), "acknowledged records were lost"
    assert len(refs) == len(set(refs)), "a record was stored twice"
    assert seqs == sorted(set(seqs)), "sequences repeat or are out of order"
    assert found["count"] == len(refs) == found["record_count"], "some stored record is unreadable"
    stored = set(refs)
    for batch in batches:
        present = [ref in stored for ref in batch]
        assert all(present) or not any(present), f"append_many half stored: {batch[0]}.."
    assert not acked_runs - set(found["runs"]), "acknowledged runs were lost"
    assert not acked_stages - set(found["stages"]), "acknowledged stages were lost"
    assert found["metadata_ok"], found["metadata_issues"]
    record_errors = [code for severity, code in found["record_issues"] if severity == "error"]
    assert record_errors == []
    # Killed mid-write, the writers left torn tails: reported as warnings, never lost silently.
    assert {code for _, code in found["record_issues"]} <= {"truncated_tail"}
    assert not list((root / "records" / "spool").glob("*.spool")), "a dead spool was not indexed"
