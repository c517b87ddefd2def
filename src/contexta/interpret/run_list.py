"""``list_runs`` arguments and their evaluation (contract §5.5).

One order whatever filters are given: ``sort_by`` ascending (oldest first by default) or
descending, ties broken by run ref in the same direction, instants compared as instants.
Metric conditions cost one indexed query per condition for all candidate runs together.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contexta.errors import truncate_value
from contexta.interpret.frozen_map import EMPTY_MAP, freeze_mapping
from contexta.interpret.instants import coerce_instant, instant_key
from contexta.interpret.resolve import QueryValidationError

if TYPE_CHECKING:
    from contexta.interpret.read_models import RunRecord
    from contexta.interpret.state import ReadState

__all__ = [
    "METRIC_OPERATORS",
    "RUN_SORT_FIELDS",
    "MetricCondition",
    "RunListQuery",
    "TimeRange",
    "require_query",
    "select_runs",
]

RUN_STATUSES = ("open", "completed", "failed", "cancelled")
RUN_SORT_FIELDS = ("started_at", "ended_at", "name")
METRIC_OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "lt": operator.lt,
    "gte": operator.ge,
    "lte": operator.le,
    "eq": operator.eq,
    "ne": operator.ne,
}


def _invalid(code: str, field: str, value: object, allowed: str) -> QueryValidationError:
    shown = truncate_value(value)
    message = f"invalid {field}: got {shown}; allowed: {allowed}"
    return QueryValidationError(
        message, code=code, details={"field": field, "value": shown, "allowed": allowed}
    )


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Inclusive bounds on ``started_at``; any accepted timestamp form, kept canonical."""

    started_after: str | datetime | None = None
    started_before: str | datetime | None = None

    def __post_init__(self) -> None:
        code = "query_invalid_time_range"
        for name in ("started_after", "started_before"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(
                    self, name, coerce_instant(value, field=f"time_range.{name}", code=code)
                )
        after, before = self.started_after, self.started_before
        if after is not None and before is not None:
            if instant_key(str(after)) > instant_key(str(before)):
                raise _invalid(
                    code,
                    "time_range",
                    (after, before),
                    "started_after earlier than or equal to started_before",
                )

    def contains(self, started_at: str) -> bool:
        key = instant_key(started_at)
        if self.started_after is not None and key < instant_key(str(self.started_after)):
            return False
        return not (self.started_before is not None and key > instant_key(str(self.started_before)))


@dataclass(frozen=True, slots=True)
class MetricCondition:
    """Keep runs whose latest value of ``metric_key`` satisfies ``operator threshold``."""

    metric_key: str
    operator: str
    threshold: int | float
    stage_name: str | None = None

    def __post_init__(self) -> None:
        code = "query_invalid_metric_condition"
        if not isinstance(self.metric_key, str) or not self.metric_key.strip():
            raise _invalid(code, "metric_key", self.metric_key, "a non-empty metric key")
        if not isinstance(self.operator, str) or self.operator not in METRIC_OPERATORS:
            raise _invalid(code, "operator", self.operator, ", ".join(METRIC_OPERATORS))
        threshold = self.threshold
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or (isinstance(threshold, float) and math.isnan(threshold))
        ):
            raise _invalid(code, "threshold", threshold, "an int or float (not bool, not NaN)")
        if self.stage_name is not None and (
            not isinstance(self.stage_name, str) or not self.stage_name
        ):
            raise _invalid(code, "stage_name", self.stage_name, "a stage name or None")

    def matches(self, value: int | float) -> bool:
        return bool(METRIC_OPERATORS[self.operator](value, self.threshold))


@dataclass(frozen=True, slots=True)
class RunListQuery:
    """Every ``list_runs`` filter in one object; ``run_ids`` keeps only the listed runs."""

    project_name: str | None = None
    status: str | None = None
    tags: Mapping[str, str] | None = None
    time_range: TimeRange | None = None
    metric_conditions: Sequence[MetricCondition] = ()
    limit: int | None = None
    offset: int = 0
    sort_by: str = "started_at"
    sort_desc: bool = False
    run_ids: Sequence[str] | None = None

    def __post_init__(self) -> None:
        code = "query_invalid_run_list_query"
        if self.project_name is not None and (
            not isinstance(self.project_name, str) or not self.project_name.strip()
        ):
            raise _invalid(code, "project_name", self.project_name, "a project name or None")
        if self.status is not None and self.status not in RUN_STATUSES:
            raise _invalid(code, "status", self.status, ", ".join(RUN_STATUSES))
        object.__setattr__(self, "tags", _check_tags(self.tags, code))
        if self.time_range is not None and not isinstance(self.time_range, TimeRange):
            raise _invalid(code, "time_range", self.time_range, "a TimeRange or None")
        conditions = _as_tuple(self.metric_conditions, code, "metric_conditions")
        for item in conditions:
            if not isinstance(item, MetricCondition):
                raise _invalid(code, "metric_conditions", item, "MetricCondition objects")
        object.__setattr__(self, "metric_conditions", conditions)
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit <= 0
        ):
            raise _invalid(code, "limit", self.limit, "an int > 0 or None")
        if isinstance(self.offset, bool) or not isinstance(self.offset, int) or self.offset < 0:
            raise _invalid(code, "offset", self.offset, "an int >= 0")
        if self.sort_by not in RUN_SORT_FIELDS:
            raise _invalid(code, "sort_by", self.sort_by, ", ".join(RUN_SORT_FIELDS))
        if not isinstance(self.sort_desc, bool):
            raise _invalid(code, "sort_desc", self.sort_desc, "True or False")
        if self.run_ids is not None:
            ids = _as_tuple(self.run_ids, code, "run_ids")
            for item in ids:
                if not isinstance(item, str) and type(item).__name__ != "StableRef":
                    raise _invalid(code, "run_ids", item, "run identifiers (str or StableRef)")
            object.__setattr__(self, "run_ids", tuple(str(item) for item in ids))


def _as_tuple(value: object, code: str, field: str) -> tuple[Any, ...]:
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(value)
    raise _invalid(code, field, value, "a list or tuple")


def _check_tags(tags: object, code: str) -> Mapping[str, str] | None:
    if tags is None:
        return None
    if not isinstance(tags, Mapping):
        raise _invalid(code, "tags", tags, "a mapping of str to str")
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise _invalid(code, "tags", {key: value}, "a mapping of str to str")
    return freeze_mapping(tags) if tags else EMPTY_MAP


def require_query(value: object, field: str = "query") -> RunListQuery | None:
    """``value`` when it is a ``RunListQuery`` or ``None``; anything else is invalid."""
    if value is None or isinstance(value, RunListQuery):
        return value
    code = "query_invalid_run_list_query"
    raise _invalid(code, field, value, "a RunListQuery or None")


def select_runs(state: ReadState, query: RunListQuery) -> tuple[RunRecord, ...]:
    """Filter, sort and page the runs as contract §5.5 specifies."""
    if query.project_name is not None:
        project_ref = state.project_ref_for(query.project_name)
        if project_ref is None:
            return ()
        runs = state.runs(project_ref)
    else:
        runs = state.runs(None)
    if query.run_ids is not None:
        wanted = {str(state.resolve_run(run_id).run_ref) for run_id in query.run_ids}
        runs = tuple(run for run in runs if str(run.run_ref) in wanted)
    if query.status is not None:
        runs = tuple(run for run in runs if run.status == query.status)
    if query.tags:
        expected = query.tags.items()
        runs = tuple(run for run in runs if all(run.tags.get(k) == v for k, v in expected))
    if query.time_range is not None:
        runs = tuple(run for run in runs if query.time_range.contains(run.started_at))
    for condition in query.metric_conditions:
        if not runs:
            break
        runs = _filter_by_metric(state, runs, condition)
    ordered = _sorted(runs, query.sort_by, query.sort_desc)
    paged = ordered[query.offset :]
    if query.limit is not None:
        paged = paged[: query.limit]
    return tuple(state.run_record(run) for run in paged)


def _filter_by_metric(
    state: ReadState, runs: tuple[Any, ...], condition: MetricCondition
) -> tuple[Any, ...]:
    refs = [str(run.run_ref) for run in runs]
    latest: dict[str, tuple[str, int, int | float]] = {}
    rows = state.repository.iter_record_rows(
        run_refs=refs, record_type="metric", metric_key=condition.metric_key
    )
    stage_name = condition.stage_name
    for row in rows:
        if stage_name is not None and (
            row.stage_ref is None or row.stage_ref.rpartition(".")[2] != stage_name
        ):
            continue
        if row.value is None:
            continue
        rank = (instant_key(row.observed_at), row.sequence)
        held = latest.get(row.run_ref)
        if held is None or rank > held[:2]:
            latest[row.run_ref] = (rank[0], rank[1], row.value)
    kept = []
    for run in runs:
        entry = latest.get(str(run.run_ref))
        if entry is None:
            continue
        value = entry[2]
        if isinstance(value, float) and math.isnan(value):
            continue
        if condition.matches(value):
            kept.append(run)
    return tuple(kept)


def _sorted(runs: Sequence[Any], sort_by: str, descending: bool) -> list[Any]:
    if sort_by == "name":
        return sorted(runs, key=lambda r: (r.name, str(r.run_ref)), reverse=descending)
    if sort_by == "started_at":
        return sorted(
            runs, key=lambda r: (instant_key(r.started_at), str(r.run_ref)), reverse=descending
        )
    ended = [r for r in runs if r.ended_at is not None]
    still_open = [r for r in runs if r.ended_at is None]
    ended.sort(key=lambda r: (instant_key(r.ended_at), str(r.run_ref)), reverse=descending)
    still_open.sort(key=lambda r: str(r.run_ref), reverse=descending)
    return ended + still_open
