"""Build ``Baseline``s from what earlier runs stored, through the public store API.

The baseline of a profile is the same dataset name, in a stage of the same name, in
the previous ``history_runs`` completed runs of the same project that recorded it
(newest first), leaving out runs where a data-quality finding named the dataset in
that stage: a broken night is not a normal night, so the night after it is compared
with the last healthy one (no "schema changed back", and a null rate of 1.0 does not
raise the baseline maximum so far that a second break goes unseen). A batch profile
prefers the history of the same batch name where any exists among the runs read;
otherwise each run contributes its latest profile of the dataset in that stage.
Statistics are found by their ``dq.*`` tags, never by parsing keys, so renaming rules
for key segments cannot break history.

Runs are read newest first, a few more than needed at a time, through the per-process
``contexta.quality.run_history`` cache, so a run is parsed once per process however
many datasets and nights use it. Read-time checks (``contexta.quality.deferred``) use
the same selection, with the findings they computed for earlier runs as extra flags.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from contexta.quality.rules import Baseline
from contexta.quality.run_history import HISTORY_CACHE, Group, RunHistory, StageDataset

__all__ = ["ExtraFlags", "baseline_window", "load_baselines", "run_instant", "select_baselines"]

logger = logging.getLogger(__name__)

_MIN_WINDOW = 28
_EXTRA_RUNS = 3

#: run ref -> (stage, dataset) -> batches flagged by findings not stored in that run.
ExtraFlags = Mapping[str, Mapping[StageDataset, AbstractSet[str | None]]]
HistoryReader = Callable[[Sequence[Any]], Mapping[str, RunHistory]]


def baseline_window(history_runs: int) -> int:
    """How many earlier completed runs a profile's baseline is looked for in."""
    return max(history_runs * 4, _MIN_WINDOW)


def run_instant(text: object) -> _dt.datetime:
    """A run's ``started_at`` as an aware instant (unreadable: the earliest)."""
    value = str(text)
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return _dt.datetime.min.replace(tzinfo=_dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.UTC)


def _candidate_runs(ctx: Any, run_ref: str, limit: int) -> list[Any]:
    """Completed runs of the project that started before ``run_ref``, newest first."""
    project_value = run_ref.split(":", 1)[-1].split(".", 1)[0]
    runs = list(ctx.metadata_store.runs.list_runs(f"project:{project_value}"))
    current = next((run for run in runs if str(run.run_ref) == run_ref), None)
    cutoff = run_instant(current.started_at) if current is not None else None
    earlier = [
        run for run in runs
        if str(run.run_ref) != run_ref and run.status == "completed"
        and (cutoff is None or run_instant(run.started_at) <= cutoff)
    ]
    earlier.sort(key=lambda run: (run_instant(run.started_at), str(run.run_ref)), reverse=True)
    return earlier[:limit]


def _flagged(history: RunHistory, extra: Mapping[StageDataset, AbstractSet[str | None]] | None,
             stage: str | None, dataset: str) -> AbstractSet[str | None]:
    stored = history.flagged.get((stage, dataset), set())
    more = None if extra is None else extra.get((stage, dataset))
    return stored | more if more else stored


def _pick(history: RunHistory, stage: str | None, dataset: str, batch: str | None,
          use_batch: bool, extra: Mapping[StageDataset, AbstractSet[str | None]] | None = None,
          ) -> tuple[str | None, Group] | None:
    """The run's profile to compare with, or ``None`` (none, or flagged by a finding)."""
    per_stage = history.groups.get((stage, dataset))
    if not per_stage:
        return None
    if use_batch:
        chosen = batch
    elif None in per_stage:
        chosen = None
    else:
        chosen = max(per_stage, key=lambda name: per_stage[name].last_sequence)
    group = per_stage.get(chosen)
    if group is None or (group.row_count is None and not group.stats and group.schema is None):
        return None
    flagged = _flagged(history, extra, stage, dataset)
    if chosen in flagged or None in flagged:
        return None
    return chosen, group


def _assemble(runs: Sequence[Any], histories: Mapping[str, RunHistory], stage: str | None,
              batch: str | None, dataset: str, history_runs: int,
              extra_flags: ExtraFlags | None = None) -> list[Baseline]:
    use_batch = batch is not None and any(
        batch in history.groups.get((stage, dataset), {}) for history in histories.values())
    baselines: list[Baseline] = []
    skipped: list[str] = []
    for run in runs:
        ref = str(run.run_ref)
        history = histories.get(ref)
        extra = None if extra_flags is None else extra_flags.get(ref)
        picked = None if history is None else _pick(history, stage, dataset, batch, use_batch,
                                                     extra)
        if picked is None:
            if history is not None and _flagged(history, extra, stage, dataset):
                skipped.append(ref)
            continue
        group = picked[1]
        baselines.append(Baseline(run_ref=ref, row_count=group.row_count, schema=group.schema,
                                  stats=group.stats, started_at=str(run.started_at)))
        if len(baselines) >= history_runs:
            break
    if skipped:
        logger.debug("dq baseline of %s at %s/%s leaves out runs with findings: %s",
                     dataset, stage, batch, skipped)
    return baselines


def select_baselines(candidates: Sequence[Any], reader: HistoryReader, *, stage: str | None,
                     batch: str | None, dataset: str, history_runs: int,
                     extra_flags: ExtraFlags | None = None) -> tuple[Baseline, ...]:
    """Baselines from ``candidates`` (earlier completed runs, newest first), read in chunks.

    The chunks matter: whether a batch has history of its own is decided over the runs
    read so far, so read-time checks reproduce capture by calling this same loop.
    """
    baselines: list[Baseline] = []
    read = 0
    step = history_runs + _EXTRA_RUNS
    while read < len(candidates):
        read = min(len(candidates), read + step)
        step *= 2
        histories = reader(candidates[:read])
        baselines = _assemble(candidates[:read], histories, stage, batch, dataset, history_runs,
                              extra_flags)
        if len(baselines) >= history_runs:
            break
    logger.debug("dq baselines for %s at %s/%s: %d runs of %d read", dataset, stage, batch,
                 len(baselines), read)
    return tuple(baselines)


def load_baselines(ctx: Any, *, run_ref: str, stage: str | None, batch: str | None, dataset: str,
                   history_runs: int) -> tuple[Baseline, ...]:
    """Baselines for ``dataset`` at ``stage``/``batch``, newest first (at most ``history_runs``).

    ``stage`` and ``batch`` are the last ref components of the stage and batch
    (``stage=None`` for a run-level profile). Runs whose data-quality findings named
    the dataset there are left out.
    """
    candidates = _candidate_runs(ctx, run_ref, baseline_window(history_runs))
    return select_baselines(
        candidates, lambda runs: HISTORY_CACHE.histories(ctx.record_store, runs),
        stage=stage, batch=batch, dataset=dataset, history_runs=history_runs)
