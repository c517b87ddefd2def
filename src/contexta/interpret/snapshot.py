"""Build a run's snapshot (contract §5.6) with a fixed number of indexed queries.

The snapshot costs one query per kind of object (stages, batches, samples, deployments,
artifacts, relations, provenance, records) whatever the run's size, and records are projected
from their stored columns without rebuilding models. The ``RunBundle`` keeps what diagnostics
needs besides the public snapshot (raw rows, orphan refs), so ``diagnose_run`` right after
``get_run_snapshot`` reads nothing twice.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from contexta.interpret.instants import instant_key
from contexta.interpret.prefetch import take_raw
from contexta.interpret.projection import (
    artifact_record,
    batch_record,
    deployment_record,
    observations_from_hot,
    provenance_view,
    relation_record,
    sample_record,
    stage_record,
)
from contexta.interpret.record_details import HotRow, RecordDetails, snapshot_rows
from contexta.interpret.results import EvidenceLink, RunSnapshot

if TYPE_CHECKING:
    from collections.abc import Sequence

    from contexta.interpret.read_models import ObservationRecord, ProvenanceView, RunRecord
    from contexta.interpret.repository import RecordRowLike
    from contexta.interpret.state import ReadState

__all__ = ["OrphanRef", "RunBundle", "build_bundle", "latest_provenance"]

_EVIDENCE_SAMPLE_LIMIT = 10
_EVIDENCE_RECORD_LIMIT = 10
_ORPHAN_KINDS = ("stage", "batch", "sample", "operation", "deployment")
_OWNER_COLUMNS = (3, 4, 5, 6, 7)  # their positions in a hot row
_STAGE_COLUMN = 3


@dataclass(frozen=True, slots=True)
class OrphanRef:
    """A stage/batch/sample/operation/deployment ref named by records but never stored."""

    missing_ref: str
    ref_kind: str
    record_ids: tuple[str, ...]


class RunBundle:
    """A snapshot plus the raw material diagnostics reuses.

    ``rows[i]`` is ``snapshot.records[i]`` as a ``RecordRowLike``; rows carry the record JSON,
    so they are built (details read in bulk) on first use: a snapshot alone never reads them.
    """

    __slots__ = ("_details", "_hot", "_rows", "orphans", "run", "snapshot", "unreadable_count")

    def __init__(
        self,
        run: Any,
        snapshot: RunSnapshot,
        hot: Sequence[HotRow],
        details: RecordDetails,
        orphans: tuple[OrphanRef, ...],
        unreadable_count: int,
    ) -> None:
        self.run = run
        self.snapshot = snapshot
        self.orphans = orphans
        self.unreadable_count = unreadable_count
        self._hot = hot
        self._details = details
        self._rows: tuple[RecordRowLike, ...] | None = None

    @property
    def rows(self) -> tuple[RecordRowLike, ...]:
        rows = self._rows
        if rows is None:
            run_ref = self.snapshot.run.run_id
            rows = snapshot_rows(run_ref, self._hot, self.snapshot.records, self._details)
            self._rows = rows
        return rows


def build_bundle(state: ReadState, run: Any) -> RunBundle:
    """Snapshot of ``run`` (cached per data version)."""
    run_ref = str(run.run_ref)
    cached = state.cached_snapshot(run_ref)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    with _collector_paused():
        bundle = _build(state, run, run_ref)
    state.store_snapshot(run_ref, bundle)
    return bundle


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a snapshot allocates its records.

    Allocating 100,000s of container objects (row tuples, records) triggers collections that
    traverse them again and again and free nothing: about a fifth of a 100,000-record
    snapshot (issue 3). The collector runs again, as configured, right after; a collector
    the caller had disabled stays disabled.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _build(state: ReadState, run: Any, run_ref: str) -> RunBundle:
    raw = take_raw(state, run)
    run_rec = state.run_record(run)
    project_name = run_rec.project_name
    stages = tuple(
        stage_record(s)
        for s in sorted(
            raw.stages,
            key=lambda s: (
                s.order_index is None,
                s.order_index or 0,
                instant_key(s.started_at),
                str(s.stage_execution_ref),
            ),
        )
    )
    stage_pos = {stage.stage_id: index for index, stage in enumerate(stages)}
    raw_batches = sorted(
        raw.batches,
        key=lambda b: (
            stage_pos.get(str(b.stage_execution_ref), len(stage_pos)),
            b.order_index is None,
            b.order_index or 0,
            instant_key(b.started_at),
            str(b.batch_execution_ref),
        ),
    )
    batches = tuple(batch_record(b) for b in raw_batches)
    samples = tuple(
        sample_record(s)
        for s in sorted(
            raw.samples,
            key=lambda s: (instant_key(s.observed_at), str(s.sample_observation_ref)),
        )
    )
    deployments = tuple(
        deployment_record(d, project_name)
        for d in sorted(
            raw.deployments,
            key=lambda d: (instant_key(d.started_at), str(d.deployment_execution_ref)),
        )
    )
    artifacts = tuple(
        artifact_record(m)
        for m in sorted(
            raw.artifacts, key=lambda m: (instant_key(m.created_at), str(m.artifact_ref))
        )
    )
    relations = tuple(
        relation_record(e) for e in sorted(raw.relations, key=lambda e: str(e.relation_ref))
    )
    scope = {run_ref}
    scope.update(s.stage_id for s in stages)
    scope.update(a.artifact_ref for a in artifacts)
    scope.update(d.deployment_id for d in deployments)
    provenance = _pick_provenance(run_ref, relations, raw.provenance, scope)
    details = raw.details if raw.details is not None else RecordDetails({})
    built, rows, unreadable = observations_from_hot(run_ref, raw.rows, details)
    records = tuple(built)
    orphans = _find_orphans(state, run_ref, rows, stages, batches, samples, deployments)
    orphan_records = {rid for orphan in orphans for rid in orphan.record_ids}
    notes = _completeness_notes(
        stages,
        batches,
        samples,
        deployments,
        artifacts,
        relations,
        records,
        set(map(itemgetter(_STAGE_COLUMN), rows)),
        provenance,
        len(orphan_records),
        unreadable,
    )
    snapshot = RunSnapshot(
        run_rec,
        deployments,
        stages,
        batches,
        samples,
        artifacts,
        relations,
        records,
        _evidence(run_rec, deployments, stages, batches, samples, artifacts, records),
        notes,
        provenance,
    )
    return RunBundle(run, snapshot, rows, details, orphans, unreadable)


def _pick_provenance(
    run_ref: str,
    relations: tuple[Any, ...],
    provenance: dict[str, list[Any]],
    scope: set[str],
) -> ProvenanceView | None:
    candidates = [
        record
        for relation in relations
        if relation.source_ref in scope or relation.target_ref in scope
        for record in provenance.get(relation.relation_ref, ())
    ]
    best = max(
        candidates,
        key=lambda p: (instant_key(p.asserted_at), str(p.provenance_ref)),
        default=None,
    )
    return None if best is None else provenance_view(run_ref, best)


def latest_provenance(
    state: ReadState, run_ref: str, relations: tuple[Any, ...], scope: frozenset[str]
) -> ProvenanceView | None:
    """Most recently asserted provenance of a relation touching ``scope`` (§5.4)."""
    relation_refs = [
        r.relation_ref for r in relations if r.source_ref in scope or r.target_ref in scope
    ]
    if not relation_refs:
        return None
    records = state.repository.list_provenance_for_relations(relation_refs)
    best = max(
        records,
        key=lambda p: (instant_key(p.asserted_at), str(p.provenance_ref)),
        default=None,
    )
    return None if best is None else provenance_view(run_ref, best)


def _find_orphans(
    state: ReadState,
    run_ref: str,
    rows: Sequence[HotRow],
    stages: tuple[Any, ...],
    batches: tuple[Any, ...],
    samples: tuple[Any, ...],
    deployments: tuple[Any, ...],
) -> tuple[OrphanRef, ...]:
    known: set[str] = {s.stage_id for s in stages}
    known.update(b.batch_id for b in batches)
    known.update(s.sample_id for s in samples)
    known.update(d.deployment_id for d in deployments)
    named_refs: set[str | None] = set()
    for column in _OWNER_COLUMNS:  # column-wise: C loops over 100,000s of rows
        named_refs.update(map(itemgetter(column), rows))
    named_refs.discard(None)
    if named_refs <= known:  # the common case: every named owner is in the snapshot
        return ()
    named: dict[str, tuple[str, list[str]]] = {}
    need_operations = False
    for row in rows:
        for column, kind in zip(_OWNER_COLUMNS, _ORPHAN_KINDS, strict=True):
            ref = row[column]
            if ref is None or ref in known:
                continue
            if kind == "operation":
                need_operations = True
            entry = named.get(ref)
            if entry is None:
                named[ref] = (kind, [row[1]])
            else:
                entry[1].append(row[1])
    if not named:
        return ()
    if need_operations:
        run_refs = [run_ref]
        known.update(
            str(o.operation_context_ref) for o in state.repository.list_operations(run_refs)
        )
    unknown = [ref for ref in named if ref not in known]
    existing = state.repository.existing_refs(unknown) if unknown else frozenset()
    return tuple(
        OrphanRef(ref, kind, tuple(record_ids))
        for ref, (kind, record_ids) in named.items()
        if ref not in known and ref not in existing
    )


def _completeness_notes(
    stages: tuple[Any, ...],
    batches: tuple[Any, ...],
    samples: tuple[Any, ...],
    deployments: tuple[Any, ...],
    artifacts: tuple[Any, ...],
    relations: tuple[Any, ...],
    records: tuple[ObservationRecord, ...],
    with_records: set[str | None],
    provenance: ProvenanceView | None,
    orphan_count: int,
    unreadable: int,
) -> tuple[str, ...]:
    notes: list[str] = []
    if not stages:
        notes.append("stage_list_empty")
    if not deployments:
        notes.append("deployment_list_empty")
    if stages and not batches:
        notes.append("batch_list_empty")
    if batches and not samples:
        notes.append("sample_list_empty")
    if not artifacts:
        notes.append("artifact_list_empty")
    if not relations:
        notes.append("relation_scope_empty")
    if not records:
        notes.append("record_scope_empty")
    if provenance is None:
        notes.append("provenance_missing")
    notes.extend(
        f"missing_stage_records:{s.name}" for s in stages if s.stage_id not in with_records
    )
    if orphan_count:
        notes.append(f"orphan_records:{orphan_count}")
    if unreadable:
        notes.append(f"unreadable_records:{unreadable}")
    return tuple(notes)


def _evidence(
    run: RunRecord,
    deployments: tuple[Any, ...],
    stages: tuple[Any, ...],
    batches: tuple[Any, ...],
    samples: tuple[Any, ...],
    artifacts: tuple[Any, ...],
    records: tuple[ObservationRecord, ...],
) -> tuple[EvidenceLink, ...]:
    links = [EvidenceLink("run", run.run_id, run.name)]
    links += [EvidenceLink("deployment", d.deployment_id, d.name) for d in deployments]
    links += [EvidenceLink("stage", s.stage_id, s.name) for s in stages]
    links += [EvidenceLink("batch", b.batch_id, b.name) for b in batches]
    links += [EvidenceLink("sample", s.sample_id, s.name) for s in samples[:_EVIDENCE_SAMPLE_LIMIT]]
    links += [EvidenceLink("artifact", a.artifact_ref, a.kind) for a in artifacts]
    links += [
        EvidenceLink("record", r.record_id, f"{r.record_type}:{r.key}")
        for r in records[:_EVIDENCE_RECORD_LIMIT]
    ]
    return tuple(links)
