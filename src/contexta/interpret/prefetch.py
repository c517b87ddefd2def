"""Fetch the raw material of run snapshots for several runs at once, with adaptive read-ahead.

A snapshot needs one query per kind of object. Run alone, that is a handful of queries per
run; a caller that walks a run list (``for run in list_runs(): get_run_snapshot(run)``) would
pay them N times. Like an OS read-ahead, the reader notices when consecutive requests walk the
caller's last run listing (or the project's run order) and then fetches the next runs of the
walk together, doubling the window up to ``MAX_WINDOW``; isolated requests fetch one run. The
extra runs' data waits in the data version's state and is dropped with it on any write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contexta.interpret.baseline import project_order
from contexta.interpret.projection import detail_from_row, hot_row_from_row
from contexta.interpret.record_details import Detail, HotRow, RecordDetails

if TYPE_CHECKING:
    from contexta.interpret.state import ReadState

__all__ = ["MAX_WINDOW", "RawRun", "remember_listing", "take_raw"]

MAX_WINDOW = 64
_LISTING_KEY = "listing"
_WALK_KEY = "walk"
_PENDING_KEY = "prefetched"


@dataclass(slots=True)
class RawRun:
    """Stored objects of one run, unprojected."""

    stages: list[Any] = field(default_factory=list)
    batches: list[Any] = field(default_factory=list)
    samples: list[Any] = field(default_factory=list)
    deployments: list[Any] = field(default_factory=list)
    artifacts: list[Any] = field(default_factory=list)
    relations: list[Any] = field(default_factory=list)
    provenance: dict[str, list[Any]] = field(default_factory=dict)
    rows: Sequence[HotRow] = ()
    details: RecordDetails | None = None


def remember_listing(state: ReadState, run_ids: Sequence[str]) -> None:
    """Record the caller's latest run listing: the walk read-ahead follows."""
    state.extras[_LISTING_KEY] = (
        tuple(run_ids),
        {run_id: index for index, run_id in enumerate(run_ids)},
    )


def _walk_order(state: ReadState, run: Any) -> tuple[Sequence[str], int]:
    run_ref = str(run.run_ref)
    listing = state.extras.get(_LISTING_KEY)
    if listing is not None and run_ref in listing[1]:
        return listing[0], listing[1][run_ref]
    ordered, position = project_order(state, str(run.project_ref))
    refs = state.extras.get(("project_refs", str(run.project_ref)))
    if refs is None:
        refs = tuple(str(r.run_ref) for r in ordered)
        state.extras[("project_refs", str(run.project_ref))] = refs
    return refs, position.get(run_ref, -1)


def _advance(state: ReadState, run: Any) -> tuple[Sequence[str], int, int, int]:
    """Update the walk detector; returns (order, index, window size, direction)."""
    order, index = _walk_order(state, run)
    previous = state.extras.get(_WALK_KEY)
    size, step = 1, 1
    if index >= 0 and previous is not None and previous[0] is order:
        last_index, last_size, last_step = previous[1], previous[2], previous[3]
        if index == last_index + last_step:
            size, step = min(last_size * 2, MAX_WINDOW), last_step
        elif index == last_index - last_step:
            size, step = min(last_size * 2, MAX_WINDOW), -last_step
    state.extras[_WALK_KEY] = (order, index, size, step)
    return order, index, size, step


def take_raw(state: ReadState, run: Any) -> RawRun:
    """Raw data of ``run``: prefetched earlier, or fetched now with its read-ahead window."""
    run_ref = str(run.run_ref)
    pending: dict[str, RawRun] = state.extras.setdefault(_PENDING_KEY, {})
    order, index, size, step = _advance(state, run)
    raw = pending.pop(run_ref, None)
    if raw is not None:
        return raw
    refs = [run_ref]
    cursor = index + step
    while index >= 0 and len(refs) < size and 0 <= cursor < len(order):
        candidate = order[cursor]
        if candidate not in pending and state.cached_snapshot(candidate) is None:
            refs.append(candidate)
        cursor += step
    fetched = _fetch(state, refs)
    raw = fetched.pop(run_ref)
    pending.update(fetched)
    return raw


def _fetch(state: ReadState, run_refs: list[str]) -> dict[str, RawRun]:
    repo = state.repository
    raws = {ref: RawRun() for ref in run_refs}
    owner: dict[str, str] = {ref: ref for ref in run_refs}
    for stage in repo.list_stages(run_refs):
        ref = str(stage.stage_execution_ref)
        raws[str(stage.run_ref)].stages.append(stage)
        owner[ref] = str(stage.run_ref)
    for batch in repo.list_batches(run_refs):
        raws[str(batch.run_ref)].batches.append(batch)
        owner[str(batch.batch_execution_ref)] = str(batch.run_ref)
    for sample in repo.list_samples(run_refs):
        raws[str(sample.run_ref)].samples.append(sample)
    for deployment in repo.list_deployments(run_refs=run_refs):
        raws[str(deployment.run_ref)].deployments.append(deployment)
        owner[str(deployment.deployment_execution_ref)] = str(deployment.run_ref)
    for manifest in repo.list_artifacts(run_refs):
        raws[str(manifest.run_ref)].artifacts.append(manifest)
        owner[str(manifest.artifact_ref)] = str(manifest.run_ref)
    edges = repo.list_relations_for_refs(list(owner))
    relation_refs = []
    for edge in edges:
        ends = (owner.get(str(edge.source_ref)), owner.get(str(edge.target_ref)))
        for ref in {end for end in ends if end is not None}:
            raws[ref].relations.append(edge)
        relation_refs.append(str(edge.relation_ref))
    if relation_refs:
        by_relation: dict[str, list[Any]] = {}
        for record in repo.list_provenance_for_relations(relation_refs):
            by_relation.setdefault(str(record.relation_ref), []).append(record)
        for raw in raws.values():
            for edge in raw.relations:
                key = str(edge.relation_ref)
                if key in by_relation:
                    raw.provenance[key] = by_relation[key]
    rows, details = _record_rows(repo, run_refs)
    for ref, raw in raws.items():
        raw.rows = rows.get(ref, ())
        raw.details = details
    return raws


def _record_rows(repo: Any, run_refs: list[str]) -> tuple[dict[str, Any], RecordDetails]:
    """Hot rows of the runs' records, and the details they share (``record_details``).

    The workspace's record store serves the hot columns alone (the rest is loaded later, in
    bulk, when read); any other repository is read through ``iter_record_rows``.
    """
    store = getattr(repo, "record_store", None)
    snapshot_rows = getattr(store, "snapshot_rows", None)
    if snapshot_rows is not None:
        by_run: dict[str, Any] = snapshot_rows(run_refs)
        return by_run, RecordDetails(by_run, source=store)
    by_run = {ref: [] for ref in run_refs}
    known: dict[str, Detail] = {}
    for row in repo.iter_record_rows(run_refs=run_refs):
        holder = by_run.get(row.run_ref)
        if holder is not None:
            holder.append(hot_row_from_row(row))
            known[row.record_ref] = detail_from_row(row)
    return by_run, RecordDetails(by_run, known=known)
