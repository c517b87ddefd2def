"""Read-time history checks for profiles recorded with ``checks=False`` ("deferred").

Reading history costs the user's job at capture time, so a profile may be recorded
unchecked and judged when diagnostics read it: the same rules, with the settings stored
in its schema event, on the same baseline selection as capture would have used, so the
findings are the ones capture would have recorded. The baseline leaves out earlier runs
whose findings named the dataset, read-time findings included, so the earlier runs a
run depends on are judged first: collected backwards without recursion, then judged
oldest first. Verdicts are remembered per record store and re-judged only when the
run's records, its candidate runs, or those candidates' verdicts changed. Capture-time
checks ask for the same verdicts (``DeferredChecks.flags``) on earlier runs recorded
unchecked, so a night judges the same whichever way the nights before it were recorded.
"""

from __future__ import annotations

import bisect
import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from contexta.quality.history import baseline_window, run_instant, select_baselines
from contexta.quality.models import ColumnProfile, Finding, FrameProfile
from contexta.quality.recording import (
    DEFAULT_HISTORY_RUNS,
    ProfileKeys,
    check_settings,
    finding_evidence,
    safe_text,
)
from contexta.quality.rules import evaluate_history
from contexta.quality.run_history import HISTORY_CACHE, Group, HistoryCache, RunHistory
from contexta.quality.thresholds import QualityThresholds

__all__ = ["DEFERRED_CHECKS", "DeferredChecks", "DeferredProfile", "rebuild_profile"]

logger = logging.getLogger(__name__)

_MAX_SUMMARY = 10_000
_MAX_VERDICTS = 4096
_READ_AHEAD = 32

GroupKey = tuple[str | None, str, str | None]  # (stage, dataset, batch)
Flags = dict[tuple[str | None, str], frozenset[str | None]]


@dataclass(frozen=True, slots=True)
class DeferredProfile:
    """Read-time verdict on one stored profile (the latest of its stage/batch).

    ``findings`` carry the attributes capture would have stored (``finding_evidence``);
    ``error`` says why the checks could not run (then ``findings`` is empty).
    """

    stage: str | None
    batch: str | None
    dataset: str
    findings: tuple[Finding, ...] = ()
    error: str | None = None


@dataclass(slots=True)
class _Verdict:
    serial: int  # RunHistory.serial of the run when judged
    deps: tuple[tuple[str, int, int], ...]  # (candidate ref, its serial, its stamp)
    profiles: tuple[DeferredProfile, ...]
    flags: Flags
    stamp: int  # changes when ``flags`` change: later runs depending on them re-judge
    checked_version: object


@dataclass(slots=True)
class _Order:
    """A project's runs at one data version; completed ones by (started_at, ref)."""

    version: object
    runs: dict[str, Any]
    completed: list[Any]
    instants: list[Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    """A run's unchecked profiles with their settings, for one parse of the run."""

    serial: int
    window: int  # earlier runs any of its profiles may take a baseline from
    groups: tuple[tuple[GroupKey, Group, QualityThresholds, int], ...]


@dataclass(slots=True)
class _Memo:
    verdicts: OrderedDict[str, _Verdict] = field(default_factory=OrderedDict)
    plans: dict[str, _Plan] = field(default_factory=dict)
    orders: dict[str, _Order] = field(default_factory=dict)
    stamps: int = 0


def _int_or_float(group: Group, column: str, stat: str) -> int | float | None:
    value = group.stats.get(column, {}).get(stat)
    if value is not None and (column, stat) in group.int_stats:
        return int(value)
    return value


def rebuild_profile(group: Group) -> FrameProfile:
    """The profile capture judged, from what it stored.

    Counts come back from the stored rates (``rate * rows`` is within rounding of the
    count); ``std`` and text bounds (temporal columns) are not stored and no rule uses
    them, except that a temporal "became constant" reports its distinct count as value.
    """
    rows = int(group.row_count) if group.row_count is not None else (group.schema_rows or 0)
    columns = []
    for name, dtype in (group.schema or {}).items():
        column = name if name in group.stats else safe_text(name)
        stats = group.stats.get(column, {})
        null_rate, zero_rate = stats.get("null_rate"), stats.get("zero_rate")
        distinct = stats.get("distinct_count")
        columns.append(ColumnProfile(
            name=name, dtype=dtype, kind="numeric" if zero_rate is not None else "other",
            row_count=rows, null_count=0 if null_rate is None else round(null_rate * rows),
            null_rate=null_rate, zero_rate=zero_rate,
            zero_count=None if zero_rate is None else round(zero_rate * rows),
            distinct_count=None if distinct is None else int(distinct),
            min=_int_or_float(group, column, "min"), max=_int_or_float(group, column, "max"),
            mean=stats.get("mean"),
        ))
    return FrameProfile(row_count=rows, columns=tuple(columns),
                        schema_fingerprint=group.fingerprint or "", backend="stored")


def _deferred_groups(history: RunHistory) -> list[tuple[GroupKey, Group]]:
    """The run's unchecked profiles, in the order they were recorded."""
    found = [((stage, dataset, batch), group)
             for (stage, dataset), per_batch in history.groups.items()
             for batch, group in per_batch.items() if group.deferred]
    found.sort(key=lambda item: item[1].last_sequence)
    return found


@lru_cache(maxsize=64)
def _parsed_settings(text: str) -> tuple[QualityThresholds, int]:
    return check_settings(json.loads(text))


def _settings(group: Group, run_ref: str, dataset: str) -> tuple[QualityThresholds, int]:
    """The settings capture stored for the profile (parsed once per distinct settings)."""
    if group.settings is None:
        return QualityThresholds(), DEFAULT_HISTORY_RUNS
    try:
        return _parsed_settings(json.dumps(group.settings, sort_keys=True))
    except (TypeError, ValueError) as exc:  # ValidationError is a ValueError too
        logger.warning("stored check settings of %r in %s are unreadable, defaults used: %s",
                       dataset, run_ref, exc)
        return QualityThresholds(), DEFAULT_HISTORY_RUNS


class _Walk:
    """One evaluation of a run and the earlier runs its verdict depends on."""

    def __init__(self, cache: HistoryCache, memo: _Memo, record_store: Any, order: _Order,
                 version: object) -> None:
        self.cache = cache
        self.memo = memo
        self.record_store = record_store
        self.version = version
        self.completed = order.completed
        self.instants = order.instants
        self.histories: dict[str, RunHistory] = {}

    @staticmethod
    def key(run: Any) -> tuple[Any, str]:
        return run_instant(run.started_at), str(run.run_ref)

    def load(self, runs: Sequence[Any]) -> None:
        missing = {str(r.run_ref): r for r in runs if str(r.run_ref) not in self.histories}
        if missing:
            self.histories.update(self.cache.histories(self.record_store,
                                                       list(missing.values())))

    def candidates(self, run: Any, limit: int) -> list[Any]:
        """``load_baselines``' candidates: completed runs started no later, newest first."""
        ref = str(run.run_ref)
        end = bisect.bisect_right(self.instants, run_instant(run.started_at))
        found: list[Any] = []
        for index in range(end - 1, -1, -1):
            if len(found) >= limit:
                break
            if str(self.completed[index].run_ref) != ref:
                found.append(self.completed[index])
        return found

    def plan(self, run: Any) -> _Plan:
        ref = str(run.run_ref)
        history = self.histories[ref]
        plan = self.memo.plans.get(ref)
        if plan is None or plan.serial != history.serial:
            groups = []
            for group_key, group in _deferred_groups(history):
                thresholds, runs = _settings(group, ref, group_key[1])
                groups.append((group_key, group, thresholds, runs))
            window = max((baseline_window(runs) for *_, runs in groups), default=0)
            plan = self.memo.plans[ref] = _Plan(history.serial, window, tuple(groups))
        return plan

    def window(self, run: Any) -> int:
        return self.plan(run).window

    def confirmed(self, ref: str) -> bool:
        """Judged at this data version already (its own dependencies were checked then)."""
        verdict = self.memo.verdicts.get(ref)
        return self.version is not None and verdict is not None and \
            verdict.checked_version == self.version

    def closure(self, target: Any) -> list[Any]:
        """The target and the earlier runs with unchecked profiles it depends on that were
        not judged at this data version yet, oldest first (a loop, not recursion)."""
        # Read ahead to the end of an aligned block: callers often walk a project's runs
        # oldest first (reports, summaries), and then each block is read once.
        end = bisect.bisect_right(self.instants, run_instant(target.started_at))
        stop = (end // _READ_AHEAD + 1) * _READ_AHEAD
        self.load([target, *self.completed[end:stop]])
        needed = {str(target.run_ref): target}
        todo = [target]
        while todo:
            windows = [self.candidates(run, self.window(run)) for run in todo]
            self.load([c for window in windows for c in window])
            todo = []
            for window in windows:
                for candidate in window:
                    ref = str(candidate.run_ref)
                    if ref not in needed and self.window(candidate) \
                            and not self.confirmed(ref):
                        needed[ref] = candidate
                        todo.append(candidate)
        return sorted(needed.values(), key=self.key)

    def judge(self, run: Any) -> _Verdict:
        ref = str(run.run_ref)
        history = self.histories[ref]
        own_key = self.key(run)
        window = self.candidates(run, self.window(run))
        verdicts = self.memo.verdicts
        deps = []
        for candidate in window:
            cref = str(candidate.run_ref)
            earlier = self.key(candidate) < own_key and self.plan(candidate).window > 0
            judged = verdicts.get(cref) if earlier else None
            deps.append((cref, self.histories[cref].serial, -1 if judged is None else judged.stamp))
        old = verdicts.get(ref)
        if old is not None and old.serial == history.serial and old.deps == tuple(deps):
            old.checked_version = self.version
            verdicts.move_to_end(ref)
            return old
        extra = {cref: verdicts[cref].flags for cref, _, stamp in deps if stamp >= 0}
        profiles = tuple(self._profile(run, group_key, group, thresholds, runs, window, extra)
                         for group_key, group, thresholds, runs in self.plan(run).groups)
        flags: dict[tuple[str | None, str], set[str | None]] = {}
        for profile in profiles:
            if profile.findings:
                flags.setdefault((profile.stage, profile.dataset), set()).add(profile.batch)
        frozen = {name: frozenset(batches) for name, batches in flags.items()}
        if old is not None and old.flags == frozen:
            stamp = old.stamp
        else:
            self.memo.stamps += 1
            stamp = self.memo.stamps
        verdict = _Verdict(history.serial, tuple(deps), profiles, frozen, stamp, self.version)
        verdicts[ref] = verdict
        verdicts.move_to_end(ref)
        return verdict

    def _profile(self, run: Any, group_key: GroupKey, group: Group,
                 thresholds: QualityThresholds, history_runs: int, window: list[Any],
                 extra: Mapping[str, Flags]) -> DeferredProfile:
        ref = str(run.run_ref)
        stage, dataset, batch = group_key
        try:
            baselines = select_baselines(
                window[:baseline_window(history_runs)],
                lambda runs: {str(r.run_ref): self.histories[str(r.run_ref)] for r in runs},
                stage=stage, batch=batch, dataset=dataset, history_runs=history_runs,
                extra_flags=extra)
            profile = rebuild_profile(group)
            findings = evaluate_history(profile, baselines.runs, thresholds, dataset=dataset,
                                        latest=baselines.latest)
            if not findings:
                return DeferredProfile(stage, batch, dataset)
            keys = ProfileKeys(dataset, profile.column_names)
            recorded = tuple(
                replace(finding, summary=safe_text(finding.summary, _MAX_SUMMARY),
                        attributes=finding_evidence(finding, keys, stage, batch))
                for finding in findings)
        except (MemoryError, RecursionError):
            raise
        except Exception as exc:  # one damaged profile must not hide the others
            text = safe_text(f"{type(exc).__name__}: {exc}", 500)
            logger.warning("read-time checks of %r in %s failed: %s", dataset, ref, text,
                           exc_info=exc)
            return DeferredProfile(stage, batch, dataset, error=text)
        return DeferredProfile(stage, batch, dataset, recorded)


class DeferredChecks:
    """Read-time verdicts on unchecked profiles, remembered per record store."""

    def __init__(self, history: HistoryCache = HISTORY_CACHE,
                 max_runs: int = _MAX_VERDICTS) -> None:
        self.history = history
        self.max_runs = max_runs
        self._lock = threading.Lock()
        self._stores: weakref.WeakKeyDictionary[Any, _Memo] = weakref.WeakKeyDictionary()

    def clear(self) -> None:
        with self._lock:
            self._stores.clear()

    def profiles(self, metadata_store: Any, record_store: Any,
                 run_ref: str) -> tuple[DeferredProfile, ...]:
        """Verdicts on the unchecked profiles of ``run_ref`` (empty when it has none)."""
        with self._lock:
            verdict = self._verdict(metadata_store, record_store, str(run_ref))
        return () if verdict is None else verdict.profiles

    def flags(self, metadata_store: Any, record_store: Any,
              run_refs: Sequence[str]) -> dict[str, Flags]:
        """Which datasets the read-time verdicts of ``run_refs`` flagged, by run ref.

        Capture-time checks leave these out of a baseline, as read-time checks do, so a
        night broken in a run recorded unchecked hides no later break. Pass the runs
        newest first: the first one judges the earlier runs it depends on, and the rest
        are then remembered verdicts.
        """
        found: dict[str, Flags] = {}
        with self._lock:
            for ref in map(str, run_refs):
                verdict = self._verdict(metadata_store, record_store, ref)
                if verdict is not None and verdict.flags:
                    found[ref] = verdict.flags
        return found

    def _verdict(self, metadata_store: Any, record_store: Any, run_ref: str) -> _Verdict | None:
        """The run's verdict, judging it and the earlier runs it needs (holding the lock)."""
        memo = self._memo(record_store)
        version = record_store.data_version() if hasattr(record_store, "data_version") else None
        hit = None if memo is None else memo.verdicts.get(run_ref)
        if hit is not None and version is not None and hit.checked_version == version:
            return hit
        memo = memo if memo is not None else _Memo()
        order = self._order(memo, metadata_store, run_ref, version)
        target = order.runs.get(run_ref)
        if target is None:
            return None
        walk = _Walk(self.history, memo, record_store, order, version)
        pending = walk.closure(target)
        for run in pending:  # oldest first: each verdict needs the earlier ones
            walk.judge(run)
        verdict = memo.verdicts[run_ref]
        while len(memo.verdicts) > self.max_runs:
            memo.plans.pop(memo.verdicts.popitem(last=False)[0], None)
        while len(memo.plans) > 2 * self.max_runs:
            memo.plans.pop(next(iter(memo.plans)))
        logger.debug("dq read-time checks of %s: %d runs judged", run_ref, len(pending))
        return verdict

    @staticmethod
    def _order(memo: _Memo, metadata_store: Any, run_ref: str, version: object) -> _Order:
        project = "project:" + run_ref.split(":", 1)[-1].split(".", 1)[0]
        order = memo.orders.get(project)
        if order is None or version is None or order.version != version:
            runs = list(metadata_store.runs.list_runs(project))
            completed = sorted((r for r in runs if r.status == "completed"), key=_Walk.key)
            order = _Order(version, {str(r.run_ref): r for r in runs}, completed,
                           [run_instant(r.started_at) for r in completed])
            memo.orders[project] = order
        return order

    def _memo(self, record_store: Any) -> _Memo | None:
        try:
            memo = self._stores.get(record_store)
            if memo is None:
                memo = self._stores[record_store] = _Memo()
        except TypeError:  # not weak-referenceable: nothing is remembered
            return None
        return memo


#: The process-wide instance diagnostics use.
DEFERRED_CHECKS = DeferredChecks()
