"""Build ``Baseline``s from what earlier runs stored, through the public store API.

The baseline of a profile is the same dataset name, in a stage of the same name, in
the previous ``history_runs`` completed runs of the same project that recorded it
(newest first), leaving out runs where a data-quality finding named the dataset in
that stage: a broken night is not a normal night, so the night after it is compared
with the last healthy one (a null rate of 1.0 does not raise the baseline maximum so
far that a second break goes unseen). The newest earlier profile is kept aside as
``latest`` whether flagged or not: a schema is compared with it too, so a lasting
change is reported once, not on every night until it leaves the window. A batch profile
prefers the history of the same batch name where any exists among the runs read;
otherwise each run contributes its latest profile of the dataset in that stage.
Statistics are found by their ``dq.*`` tags, never by parsing keys, so renaming rules
for key segments cannot break history.

Runs are read newest first, a few more than needed at a time, through the per-process
``contexta.quality.run_history`` cache, so a run is parsed once per process however
many datasets and nights use it. Read-time checks (``contexta.quality.deferred``) use
the same selection, with the findings they computed for earlier runs as extra flags.
Capture-time checks do the same for earlier runs that recorded the dataset unchecked
(``checks=False``): their findings exist only at read time, and without them a broken
night recorded unchecked would enter the baseline of a checked night and hide a second
break. Runs with no unchecked profile of the dataset are not judged, so a project checked
at capture time pays nothing for this.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, NamedTuple

from contexta.quality.rules import Baseline
from contexta.quality.run_history import HISTORY_CACHE, Group, RunHistory, StageDataset

__all__ = [
    "Baselines",
    "ExtraFlags",
    "VerdictFlags",
    "baseline_window",
    "load_baselines",
    "run_instant",
    "select_baselines",
]

logger = logging.getLogger(__name__)

_MIN_WINDOW = 28
_EXTRA_RUNS = 3

#: run ref -> (stage, dataset) -> batches flagged by findings not stored in that run.
ExtraFlags = Mapping[str, Mapping[StageDataset, AbstractSet[str | None]]]
HistoryReader = Callable[[Sequence[Any]], Mapping[str, RunHistory]]
#: Extra flags for the runs read so far, given them (newest first) and their histories.
FlagJudge = Callable[[Sequence[Any], Mapping[str, RunHistory]], ExtraFlags]
#: Read-time verdict flags of the given run refs (``DeferredChecks.flags``), newest first.
VerdictFlags = Callable[[Sequence[str]], ExtraFlags]


class Baselines(NamedTuple):
    """A profile's history: the healthy baselines, and the newest earlier profile."""

    runs: tuple[Baseline, ...]
    #: The newest earlier run's profile of the dataset, even when findings left it out.
    latest: Baseline | None = None


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


def _choose(history: RunHistory, stage: str | None, dataset: str, batch: str | None,
            use_batch: bool) -> tuple[str | None, Group] | None:
    """The run's profile of the dataset to compare with, flagged or not (``None``: none)."""
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
    return chosen, group


def _is_flagged(history: RunHistory, extra: Mapping[StageDataset, AbstractSet[str | None]] | None,
                stage: str | None, dataset: str, chosen: str | None) -> bool:
    flagged = _flagged(history, extra, stage, dataset)
    return chosen in flagged or None in flagged


def _baseline(run: Any, group: Group) -> Baseline:
    return Baseline(run_ref=str(run.run_ref), row_count=group.row_count, schema=group.schema,
                    stats=group.stats, started_at=str(run.started_at))


def _assemble(runs: Sequence[Any], histories: Mapping[str, RunHistory], stage: str | None,
              batch: str | None, dataset: str, history_runs: int,
              extra_flags: ExtraFlags | None = None) -> Baselines:
    use_batch = batch is not None and any(
        batch in history.groups.get((stage, dataset), {}) for history in histories.values())
    baselines: list[Baseline] = []
    latest: Baseline | None = None
    skipped: list[str] = []
    for run in runs:
        ref = str(run.run_ref)
        history = histories.get(ref)
        picked = None if history is None else _choose(history, stage, dataset, batch, use_batch)
        if picked is not None and latest is None:
            latest = _baseline(run, picked[1])
        extra = None if extra_flags is None else extra_flags.get(ref)
        if history is not None and _flagged(history, extra, stage, dataset) and (
                picked is None or _is_flagged(history, extra, stage, dataset, picked[0])):
            skipped.append(ref)
            continue
        if picked is None:
            continue
        baselines.append(_baseline(run, picked[1]))
        if len(baselines) >= history_runs:
            break
    if skipped:
        logger.debug("dq baseline of %s at %s/%s leaves out runs with findings: %s",
                     dataset, stage, batch, skipped)
    return Baselines(tuple(baselines), latest)


def select_baselines(candidates: Sequence[Any], reader: HistoryReader, *, stage: str | None,
                     batch: str | None, dataset: str, history_runs: int,
                     extra_flags: ExtraFlags | None = None,
                     judge: FlagJudge | None = None) -> Baselines:
    """Baselines from ``candidates`` (earlier completed runs, newest first), read in chunks.

    The chunks matter: whether a batch has history of its own is decided over the runs
    read so far, so read-time checks reproduce capture by calling this same loop.
    ``judge``, when given, supplies the extra flags of each chunk instead of
    ``extra_flags``, so only the runs actually read are judged.
    """
    found = Baselines(())
    read = 0
    step = history_runs + _EXTRA_RUNS
    while read < len(candidates):
        read = min(len(candidates), read + step)
        step *= 2
        histories = reader(candidates[:read])
        flags = extra_flags if judge is None else judge(candidates[:read], histories)
        found = _assemble(candidates[:read], histories, stage, batch, dataset, history_runs,
                          flags)
        if len(found.runs) >= history_runs:
            break
    logger.debug("dq baselines for %s at %s/%s: %d runs of %d read", dataset, stage, batch,
                 len(found.runs), read)
    return found


def _has_unchecked(history: RunHistory, stage: str | None, dataset: str) -> bool:
    """The run recorded the dataset there unchecked: only a read-time verdict can flag it."""
    return any(group.deferred for group in history.groups.get((stage, dataset), {}).values())


def _unchecked_judge(verdicts: VerdictFlags, stage: str | None, dataset: str) -> FlagJudge:
    """A ``FlagJudge`` asking ``verdicts`` once about each run that recorded the dataset
    unchecked (newest first, so the first verdict judges the older ones on its way)."""
    found: dict[str, Mapping[StageDataset, AbstractSet[str | None]]] = {}
    asked: set[str] = set()

    def judge(runs: Sequence[Any], histories: Mapping[str, RunHistory]) -> ExtraFlags:
        todo = [ref for ref in (str(run.run_ref) for run in runs)
                if ref not in asked and ref in histories
                and _has_unchecked(histories[ref], stage, dataset)]
        if todo:
            asked.update(todo)
            found.update(verdicts(todo))
        return found

    return judge


def load_baselines(ctx: Any, *, run_ref: str, stage: str | None, batch: str | None, dataset: str,
                   history_runs: int, verdicts: VerdictFlags | None = None) -> Baselines:
    """Baselines for ``dataset`` at ``stage``/``batch``, newest first (at most ``history_runs``).

    ``stage`` and ``batch`` are the last ref components of the stage and batch
    (``stage=None`` for a run-level profile). Runs whose data-quality findings named
    the dataset there are left out: stored findings, and with ``verdicts`` the read-time
    findings of runs that recorded the dataset unchecked.
    """
    candidates = _candidate_runs(ctx, run_ref, baseline_window(history_runs))
    return select_baselines(
        candidates, lambda runs: HISTORY_CACHE.histories(ctx.record_store, runs),
        stage=stage, batch=batch, dataset=dataset, history_runs=history_runs,
        judge=None if verdicts is None else _unchecked_judge(verdicts, stage, dataset))
