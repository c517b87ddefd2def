"""Indexing other live processes' spools before a read, so their appends show at once.

A writer indexes its own spool in batches (``pipeline.py``); until it does, records it
has acknowledged are only in its spool file. A reader in another process therefore reads
those files up to their last complete entry and indexes what it finds, under the same
per-spool progress offset the writer uses, so no line is ever indexed twice and the
writer skips what a reader already did (contract §8: captured data is visible to every
reader in this and other processes when the call returns).
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
from contexta.store.records.spool import SPOOL_SUFFIX, parse_spool

if TYPE_CHECKING:
    from contexta.store.sql.engine import Database

__all__ = ["LiveSpools"]

_log = logging.getLogger(__name__)


class LiveSpools:
    """Remembers how far each other spool is indexed, so an idle check is a ``stat``."""

    def __init__(self) -> None:
        self._indexed: dict[str, int] = {}

    def catch_up(self, db: Database, root: Path, own_spool: str | None) -> int:
        """Index the complete, not yet indexed entries of other spools; return how many."""
        directory = root / "spool"
        try:
            names = os.listdir(directory)
        except OSError:  # no spools yet, or none this process may read: nothing to add
            return 0
        total = 0
        present = set()
        for name in names:
            if not name.endswith(SPOOL_SUFFIX) or name == own_spool:
                continue
            present.add(name)
            try:
                size = os.stat(directory / name).st_size
            except OSError:
                continue
            if size > self._indexed.get(name, 0):
                total += self._index(db, directory / name, size)
        for gone in set(self._indexed) - present:
            del self._indexed[gone]
        return total

    def _index(self, db: Database, path: Path, size: int) -> int:
        name = path.name
        with db.write("indexing another process's appends") as conn:
            done = indexer.read_progress(conn, name)
            if done >= size:
                self._indexed[name] = done
                return 0
            try:
                with path.open("rb") as handle:
                    handle.seek(done)
                    data = handle.read(size - done)
            except OSError:
                return 0  # its writer finished and removed it meanwhile, or it is unreadable
            parsed = parse_spool(data, done)
            # Stop before anything unreadable: the owner, or recovery once it is gone,
            # deals with it (quarantine); a reader only takes what is plainly complete.
            limit = min((offset for offset, _ in parsed.bad), default=parsed.complete_upto)
            now_us = time.time_ns() // 1000
            rows = []
            reached = done
            for end, seq, body in parsed.entries:
                if end > limit:
                    break
                try:
                    columns = columns_from_json(body)
                except ContextaError:
                    break
                columns["seq"] = seq
                columns["appended_us"] = now_us
                rows.append(columns)
                reached = end
            inserted = indexer.insert_rows(db, conn, rows) if rows else 0
            if reached > done:
                indexer.write_progress(conn, name, reached)
        self._indexed[name] = reached
        if inserted:
            _log.debug("indexed %d records appended by %s", inserted, name)
        return inserted
