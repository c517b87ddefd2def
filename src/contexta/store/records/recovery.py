"""Index the spools of processes that died, quarantining torn or bad entries.

Runs when a workspace is opened for writing and, at most once a second, before
reads. Work is done in chunks, each in one transaction together with the
spool's progress offset, so a crash during recovery resumes where it stopped
and a large spool never has to fit in memory.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from contexta.errors import ContextaError
from contexta.store.records import indexer
from contexta.store.records.rows import columns_from_json
from contexta.store.records.spool import iter_orphan_spools, parse_spool

if TYPE_CHECKING:
    from contexta.store.sql.engine import Database

__all__ = ["quarantine", "recover_orphan_spools"]

_log = logging.getLogger(__name__)
_CHUNK_BYTES = 8 * 1024 * 1024


def quarantine(root: Path, spool_name: str, offset: int, data: bytes) -> Path:
    """Copy bytes aside (never delete them) and return where they went."""
    directory = root / "quarantine"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{spool_name}.{offset}.bin"
    copy = 0
    while path.exists():  # two entries (or two recoveries) may share an offset
        copy += 1
        path = directory / f"{spool_name}.{offset}.{copy}.bin"
    path.write_bytes(data)
    return path


def recover_orphan_spools(db: Database, root: Path, own_spool: str | None) -> int:
    """Index every dead writer's spool under ``root/spool``; return records indexed."""
    total = 0
    for path, fd in iter_orphan_spools(root / "spool", own_spool):
        try:
            total += _recover_one(db, root, path, fd)
        finally:
            os.close(fd)
    return total


def _recover_one(db: Database, root: Path, path: Path, fd: int) -> int:
    name = path.name
    size = os.fstat(fd).st_size
    with db.read("reading spool progress") as conn:
        offset = indexer.read_progress(conn, name)
    total = 0
    while offset < size:
        data = os.pread(fd, min(_CHUNK_BYTES, size - offset), offset)
        parsed = parse_spool(data, offset)
        at_end = offset + len(data) >= size
        if parsed.complete_upto == offset and not at_end:
            # One entry larger than the chunk: read it whole.
            data = os.pread(fd, size - offset, offset)
            parsed = parse_spool(data, offset)
            at_end = True
        now_us = time.time_ns() // 1000
        rows = []
        with db.write("recovering records of a dead writer") as conn:
            for end, seq, body in parsed.entries:
                try:
                    columns = columns_from_json(body)
                except ContextaError as error:
                    where = quarantine(root, name, end, body.encode("utf-8"))
                    indexer.note_anomaly(
                        conn,
                        "unreadable_record",
                        f"spool {name} entry {seq} is not a valid record ({error.message}); "
                        f"copied to {where}",
                        body=body,
                    )
                    continue
                columns["seq"] = seq
                columns["appended_us"] = now_us
                rows.append(columns)
            if rows:
                total += indexer.insert_rows(db, conn, rows)
            for bad_offset, raw in parsed.bad:
                where = quarantine(root, name, bad_offset, raw)
                indexer.note_anomaly(
                    conn,
                    "unreadable_record",
                    f"spool {name} has an unreadable entry at byte {bad_offset}; copied to {where}",
                )
            new_offset = parsed.complete_upto
            if at_end and new_offset < size:
                tail = os.pread(fd, size - new_offset, new_offset)
                where = quarantine(root, name, new_offset, tail)
                indexer.note_anomaly(
                    conn,
                    "truncated_tail",
                    f"spool {name} ended with an incomplete write of {len(tail)} bytes "
                    f"(its process died mid-append; never acknowledged); copied to {where}",
                )
                new_offset = size
            indexer.write_progress(conn, name, new_offset)
        offset = new_offset
        if offset == parsed.complete_upto and not parsed.entries and not parsed.bad and not at_end:
            break
    # Unlink first: dying in between leaves a stale progress row (harmless,
    # spool names are unique) instead of a spool that would be indexed again.
    path.unlink(missing_ok=True)
    with db.write("finishing spool recovery") as conn:
        indexer.delete_progress(conn, name)
    _log.info("recovered %d records from %s", total, name)
    return total
