"""Verification, repair, replay and export of the record plane (contract.md §4.4)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from contexta.errors import ContextaError, RecordReplayError, ValidationError
from contexta.store.records.codec import record_from_json
from contexta.store.records.models import (
    IntegrityIssue,
    IntegrityReport,
    IntegrityState,
    KnownGap,
    RepairReport,
    ReplayMode,
    ReplayResult,
    ScanFilter,
    StoredRecord,
)
from contexta.store.records.recovery import quarantine, recover_orphan_spools
from contexta.store.records.rows import columns_from_record
from contexta.store.records.spool import SPOOL_SUFFIX
from contexta.store.sql import schema
from contexta.store.sql.errors import translate_errors

if TYPE_CHECKING:
    from contexta.store.records.store import RecordStore

__all__ = [
    "check_integrity",
    "export_jsonl",
    "iter_replay",
    "rebuild_indexes",
    "repair",
    "repair_truncated_tails",
    "replay",
]

_DERIVED = (
    "record_type",
    "run_ref",
    "stage_ref",
    "batch_ref",
    "sample_ref",
    "operation_ref",
    "deployment_ref",
    "key",
    "value_int",
    "value_real",
    "value_text",
    "step",
    "observed_at",
    "observed_us",
    "recorded_at",
    "recorded_us",
    "completeness",
    "degradation",
    "producer",
    "severity",
    "tags",
)


def _scan_rows(store: RecordStore) -> Iterator[dict[str, Any]]:
    t = schema.records
    last = 0
    while True:
        with store._db.read() as conn:
            page = (
                conn.execute(select(t).where(t.c.seq > last).order_by(t.c.seq).limit(1000))
                .mappings()
                .all()
            )
        yield from page
        if len(page) < 1000:
            return
        last = page[-1]["seq"]


def _problems(store: RecordStore) -> tuple[list[IntegrityIssue], list[int], list[int], int]:
    """Return (issues, unreadable seqs, mismatched seqs, record count)."""
    store._sync()
    issues: list[IntegrityIssue] = []
    unreadable: list[int] = []
    mismatched: list[int] = []
    count = 0
    known_runs: set[str] = set()
    if not store.detached:
        with store._db.read() as conn:
            known_runs = set(conn.execute(select(schema.runs.c.ref)).scalars())
    for row in _scan_rows(store):
        count += 1
        try:
            record = record_from_json(row["body"])
        except ContextaError as error:
            unreadable.append(row["seq"])
            issues.append(
                IntegrityIssue(
                    "error",
                    "unreadable_record",
                    f"record seq {row['seq']} is unreadable: {error.message}",
                )
            )
            continue
        expected = columns_from_record(record, row["body"])
        if any(expected[name] != row[name] for name in _DERIVED):
            mismatched.append(row["seq"])
            issues.append(
                IntegrityIssue(
                    "warning",
                    "index_mismatch",
                    f"record seq {row['seq']} has index columns that disagree with its body",
                )
            )
        if not store.detached and row["run_ref"] not in known_runs:
            issues.append(
                IntegrityIssue(
                    "error",
                    "record_missing_run",
                    f"record {row['record_ref']} names run {row['run_ref']}, which does not exist",
                )
            )
    with store._db.read() as conn:
        for code, message in conn.execute(
            select(schema.record_anomalies.c.code, schema.record_anomalies.c.message).order_by(
                schema.record_anomalies.c.id
            )
        ):
            severity = "warning" if code == "truncated_tail" else "error"
            issues.append(IntegrityIssue(severity, code, message))
    return issues, unreadable, mismatched, count


def check_integrity(store: RecordStore) -> IntegrityReport:
    issues, _, _, count = _problems(store)
    spools = list((store.root_path / "spool").glob(f"*{SPOOL_SUFFIX}"))
    recommendations: list[str] = []
    if store.detached:
        recommendations.append("record_run_unchecked: the store is detached; runs were not checked")
    if any(i.code in ("unreadable_record", "index_mismatch") for i in issues):
        recommendations.append("run repair() to quarantine unreadable rows and rebuild indexes")
    if any(i.severity == "error" and i.code == "unreadable_record" for i in issues):
        state = IntegrityState.CORRUPTED
    elif issues:
        state = IntegrityState.DEGRADED
    else:
        state = IntegrityState.HEALTHY
    return IntegrityReport(
        healthy=not issues,
        issues=tuple(issues),
        segment_count=len(spools) + 1,
        record_count=count,
        state=state,
        recommendations=tuple(recommendations),
    )


def rebuild_indexes(store: RecordStore) -> RepairReport:
    _, _, mismatched, _ = _problems(store)
    t = schema.records
    for seq in mismatched:
        with store._db.write("rebuilding record indexes") as conn:
            body = conn.execute(select(t.c.body).where(t.c.seq == seq)).scalar()
            columns = columns_from_record(record_from_json(body), body)
            conn.execute(update(t).where(t.c.seq == seq).values({k: columns[k] for k in _DERIVED}))
    return RepairReport(
        success=True,
        rebuilt_indexes=("records",),
        notes=(f"rebuilt index columns of {len(mismatched)} records",),
    )


def repair_truncated_tails(store: RecordStore) -> RepairReport:
    own = store._writer.name if store._writer is not None else None
    before = (
        set((store.root_path / "quarantine").glob("*"))
        if (store.root_path / "quarantine").exists()
        else set()
    )
    recover_orphan_spools(store._db, store.root_path, own)
    after = (
        set((store.root_path / "quarantine").glob("*"))
        if (store.root_path / "quarantine").exists()
        else set()
    )
    return RepairReport(
        success=True, quarantined_paths=tuple(sorted(str(p) for p in after - before))
    )


def repair(store: RecordStore) -> RepairReport:
    """Quarantine unreadable rows (copied aside, kept as anomalies) and rebuild indexes."""
    tails = repair_truncated_tails(store)
    _, unreadable, _, _ = _problems(store)
    t = schema.records
    moved: list[str] = list(tails.quarantined_paths)
    for seq in unreadable:
        with store._db.write("quarantining an unreadable record") as conn:
            row = conn.execute(select(t.c.record_ref, t.c.body).where(t.c.seq == seq)).first()
            if row is None:
                continue
            path = quarantine(store.root_path, "records-table", seq, row[1].encode("utf-8"))
            moved.append(str(path))
            conn.execute(
                insert(schema.record_anomalies).values(
                    code="unreadable_record",
                    record_ref=row[0],
                    body=row[1],
                    found_us=0,
                    message=f"record seq {seq} was unreadable and moved aside to {path}",
                )
            )
            conn.execute(delete(t).where(t.c.seq == seq))
    rebuilt = rebuild_indexes(store)
    state = check_integrity(store).state
    return RepairReport(
        success=True,
        quarantined_paths=tuple(moved),
        rebuilt_indexes=rebuilt.rebuilt_indexes,
        integrity_state=state,
        notes=rebuilt.notes,
    )


def _mode(mode: ReplayMode | str | None) -> ReplayMode:
    if mode is None:
        return ReplayMode.TOLERANT
    try:
        return ReplayMode(mode)
    except ValueError as error:
        msg = f"mode: {mode!r} is not a replay mode; use 'strict' or 'tolerant'"
        raise ValidationError(
            msg, code="record_invalid_replay_mode", details={"field": "mode"}, cause=error
        ) from error


def _gaps(store: RecordStore) -> list[KnownGap]:
    issues, _, _, _ = _problems(store)
    return [
        KnownGap(i.code, i.message, 0)
        for i in issues
        if i.code in ("unreadable_record", "truncated_tail", "record_ref_conflict")
    ]


def iter_replay(
    store: RecordStore,
    scan_filter: ScanFilter | None = None,
    *,
    mode: ReplayMode | str | None = None,
) -> Iterator[StoredRecord]:
    chosen = _mode(mode)
    if chosen is ReplayMode.STRICT:
        gaps = _gaps(store)
        if gaps:
            msg = (
                f"strict replay refused: the record store has {len(gaps)} problems "
                f"(first: {gaps[0].message})"
            )
            raise RecordReplayError(msg, details={"gaps": [g.message for g in gaps[:20]]})
    return store.scan(scan_filter)


def replay(
    store: RecordStore,
    scan_filter: ScanFilter | None = None,
    *,
    mode: ReplayMode | str | None = None,
) -> ReplayResult:
    chosen = _mode(mode)
    records = tuple(iter_replay(store, scan_filter, mode=chosen))
    gaps = tuple(_gaps(store))
    if any(gap.code == "unreadable_record" for gap in gaps):
        state = IntegrityState.CORRUPTED  # some data cannot be read (contract §4.4)
    else:
        state = IntegrityState.DEGRADED if gaps else IntegrityState.HEALTHY
    return ReplayResult(records, len(records), chosen, tuple(g.message for g in gaps), gaps, state)


def export_jsonl(
    store: RecordStore,
    destination: str | Path,
    scan_filter: ScanFilter | None = None,
    *,
    mode: ReplayMode | str | None = None,
) -> ReplayResult:
    result = replay(store, scan_filter, mode=mode)
    target = Path(destination)
    with translate_errors(f"exporting records to {target}"):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".export-", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for item in result.records:
                    from contexta.contract import to_json

                    handle.write(to_json(item.record))
                    handle.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return result
