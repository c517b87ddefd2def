"""Torn and damaged files (issue 3): keep what is readable, quarantine the rest, go on.

The damage is made the way it happens: a writer process dies (SIGKILL) and its
spool is left behind; then bytes are cut or scribbled into that spool, or into
a stored row, with plain file and SQLite tools.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.store import helpers_durability as helpers

from contexta.contract import to_json

RUN = "run:dur.torn"


def _dead_writer_spool(root: Path, count: int) -> Path:
    """Have a child append ``count`` records, SIGKILL it, return the spool it left."""
    with helpers.open_ctx(root) as ctx:
        helpers.prepare_run(ctx, RUN)
    process, conn = helpers.start("visibility", str(root), RUN, count)
    try:
        assert conn.recv() == ("appended", count)
    finally:
        process.kill()
        process.join(10)
        conn.close()
    (spool,) = (root / "records" / "spool").glob("*.spool")
    return spool


def _line(seq: int, ident: str) -> bytes:
    return f"S {seq} {to_json(helpers.metric(RUN, ident, 7.0))}\n".encode()


def _refs(ctx) -> list[str]:
    return [item.record_ref for item in ctx.record_store.scan()]


@pytest.mark.parametrize("torn", ["line", "batch"])
def test_a_write_cut_mid_way_is_quarantined_and_everything_before_it_kept(
    tmp_path: Path, torn: str
) -> None:
    root = tmp_path / ".contexta"
    spool = _dead_writer_spool(root, 3)
    # The dead writer had written two more records before its last write was cut.
    cut = _line(1001, "torn")[:-40]
    if torn == "batch":
        cut = b"B 2\n" + _line(1001, "torn") + _line(1002, "torn2")[:-40]
    with spool.open("ab") as handle:
        handle.write(_line(998, "late1") + _line(999, "late2") + cut)

    with helpers.open_ctx(root) as ctx:
        expected = [f"record:dur.torn.v{i}" for i in range(3)] + [
            "record:dur.torn.late1",
            "record:dur.torn.late2",
        ]
        assert _refs(ctx) == expected
        report = ctx.record_store.check_integrity()
        assert [issue.code for issue in report.issues] == ["truncated_tail"]
        assert report.record_count == 5
        # Quarantined, never deleted: the cut bytes are kept verbatim.
        quarantined = [p.read_bytes() for p in (root / "records" / "quarantine").iterdir()]
        assert quarantined == [cut]
        assert not spool.exists()
        receipt = ctx.record_store.append(helpers.metric(RUN, "after")).accepted[0]
        assert receipt.sequence > 999

    with helpers.open_ctx(root) as ctx:
        assert _refs(ctx) == [*expected, "record:dur.torn.after"]
        assert ctx.metadata_store.check_integrity().ok


def test_one_bad_entry_never_makes_the_rest_unreadable(tmp_path: Path) -> None:
    root = tmp_path / ".contexta"
    spool = _dead_writer_spool(root, 2)
    garbage = [
        b"S 501 {this is not json\n",
        b"\xff\xfe binary junk \x00\x01\n",
        b"S 502 " + json.dumps({"envelope": {"record_type": "metric"}}).encode() + b"\n",
        b"B 2\n" + _line(503, "in_bad_batch") + b"S x broken\n",
    ]
    with spool.open("ab") as handle:
        handle.write(_line(500, "before") + b"".join(garbage) + _line(504, "after"))

    with helpers.open_ctx(root) as ctx:
        refs = _refs(ctx)
        assert refs == [
            "record:dur.torn.v0",
            "record:dur.torn.v1",
            "record:dur.torn.before",
            "record:dur.torn.after",
        ]
        report = ctx.record_store.check_integrity()
        assert [issue.code for issue in report.issues] == ["unreadable_record"] * 4
        kept = b"".join(p.read_bytes() for p in (root / "records" / "quarantine").iterdir())
        for entry in (b"{this is not json", b"binary junk", b"in_bad_batch", b"S x broken"):
            assert entry in kept
        ctx.record_store.append(helpers.metric(RUN, "next"))

    # A row damaged inside the database is skipped by scan, counted and reported.
    database = root / "metadata" / "contexta.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE records SET body = '{broken' WHERE record_ref = ?", (refs[1],))
    with helpers.open_ctx(root) as ctx:
        store = ctx.record_store
        assert _refs(ctx) == [refs[0], refs[2], refs[3], "record:dur.torn.next"]
        assert store.count_records() == 5
        report = store.check_integrity()
        assert report.state == "corrupted"
        assert "unreadable_record" in {issue.code for issue in report.issues}
