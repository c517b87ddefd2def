"""Bulk reads for run snapshots: the columns every record needs first, the rest on demand.

A snapshot of a run holding 100,000 records must take well under a second
(issue 3), and the driver costs a few hundred nanoseconds per value fetched,
the canonical JSON body most of all. So ``snapshot_rows`` returns only
``HOT_COLUMNS``, as plain positional tuples with no per-row Python work; the
interpretation layer builds its read records from them and fetches the other
columns and the body (``record_details``) only when they are read, a chunk of
records at a time.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from contexta.store.records.reads import run_conditions
from contexta.store.records.rows import DETAIL_COLUMNS, HOT_COLUMNS
from contexta.store.sql import schema

__all__ = ["SnapshotReads"]

_LOOKUP = 500
_hot = operator.itemgetter(*HOT_COLUMNS)
_detail = operator.itemgetter(*DETAIL_COLUMNS)
_detail_body = operator.itemgetter(*DETAIL_COLUMNS, "body")


class SnapshotReads:
    """``snapshot_rows`` and ``record_details*`` (mixed into ``RecordStore``)."""

    if TYPE_CHECKING:  # provided by the other parts of ``RecordStore``

        def _sync(self) -> None: ...
        def _run_select(self, stmt: Any) -> list[Any]: ...
        def _waiting_columns(self, matches: Any) -> list[dict[str, Any]]: ...

    def snapshot_rows(self, run_refs: Iterable[str]) -> dict[str, list[tuple[Any, ...]]]:
        """``HOT_COLUMNS`` of every record of the runs: per run, tuples in sequence order.

        One query. Tuples may carry further items after ``HOT_COLUMNS``.
        """
        refs = list(dict.fromkeys(str(r) for r in run_refs))
        out: dict[str, list[tuple[Any, ...]]] = {ref: [] for ref in refs}
        if not refs:
            return out
        self._sync()
        t = schema.records
        many = len(refs) > 1
        columns = [t.c[name] for name in HOT_COLUMNS]
        if many:
            columns.append(t.c.run_ref)
        stmt = select(*columns).where(*run_conditions(refs))
        stmt = stmt.order_by(t.c.run_ref, t.c.seq) if many else stmt.order_by(t.c.seq)
        rows = self._run_select(stmt)
        if many:
            run_at = len(HOT_COLUMNS)
            for row in rows:
                out[row[run_at]].append(row)
        else:
            out[refs[0]] = rows
        wanted = set(refs)
        waiting = self._waiting_columns(lambda c: c["run_ref"] in wanted)
        if waiting:  # appended by this process, not yet indexed (indexing is failing)
            seq = operator.itemgetter(0)
            extra: dict[str, list[tuple[Any, ...]]] = {}
            for c in waiting:
                extra.setdefault(c["run_ref"], []).append((*_hot(c), c["run_ref"]))
            for ref, pending in extra.items():
                out[ref] = list(heapq.merge(out[ref], sorted(pending, key=seq), key=seq))
        return out

    def record_details(
        self, run_refs: Sequence[str], first_seq: int, last_seq: int, *, with_body: bool
    ) -> dict[str, tuple[Any, ...]]:
        """``DETAIL_COLUMNS`` (and the body) of the runs' records in a sequence range.

        Keyed by record ref; covers records in the database (see ``record_details_by_ref``).
        """
        refs = [str(r) for r in run_refs]
        if not refs:
            return {}
        t = schema.records
        columns = [t.c.record_ref, *(t.c[name] for name in DETAIL_COLUMNS)]
        if with_body:
            columns.append(t.c.body)
        stmt = select(*columns).where(
            *run_conditions(refs), t.c.seq >= first_seq, t.c.seq <= last_seq
        )
        return {row[0]: row[1:] for row in self._run_select(stmt)}

    def record_details_by_ref(
        self, record_refs: Sequence[str], *, with_body: bool
    ) -> dict[str, tuple[Any, ...]]:
        """``DETAIL_COLUMNS`` (and the body) by record ref, also of records not yet indexed."""
        wanted = set(record_refs)
        if not wanted:
            return {}
        pick = _detail_body if with_body else _detail
        found = {
            c["record_ref"]: pick(c)
            for c in self._waiting_columns(lambda c: c["record_ref"] in wanted)
        }
        missing = sorted(wanted - found.keys())
        t = schema.records
        columns = [t.c.record_ref, *(t.c[name] for name in DETAIL_COLUMNS)]
        if with_body:
            columns.append(t.c.body)
        for start in range(0, len(missing), _LOOKUP):
            chunk = missing[start : start + _LOOKUP]
            stmt = select(*columns).where(t.c.record_ref.in_(chunk))
            for row in self._run_select(stmt):
                found[row[0]] = row[1:]
        return found
