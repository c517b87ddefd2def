"""History rules: compare a fresh profile with what earlier runs recorded.

Each rule needs an absolute floor (``QualityThresholds``) AND a margin of
``noise_sigmas`` baseline standard deviations. With a perfectly constant history
the margin is zero and the floor alone decides, so a null rate that was 0.002 on
every night and is 1.0 tonight is flagged (the old z-score rule divided by a zero
spread and called it "info"); with a noisy history the margin keeps ordinary
day-to-day wobble quiet.

``zero_collapse`` is reserved for a column that stopped carrying values: (nearly)
every non-null value is zero where the baseline clearly was not mostly zeros, or a
column that varied in every one of several baseline runs now holds one value that
is not a bound it sits at every day. Real data has quiet days (calm winds, a clear
sky, no rain); those are not collapses.

Rules work on plain data (``FrameProfile`` and ``Baseline``) so they are tested
without a store; ``contexta.quality.history`` builds baselines from stored runs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from contexta.quality.models import ColumnProfile, Finding, FindingSeverity, FrameProfile
from contexta.quality.thresholds import ColumnThresholds, QualityThresholds

__all__ = [
    "BASELINE_STATS",
    "Baseline",
    "ISSUE_EXPECTATION_FAILED",
    "ISSUE_NULL_RATE_SPIKE",
    "ISSUE_ROW_COUNT_DROP",
    "ISSUE_SCHEMA_CHANGE",
    "ISSUE_ZERO_COLLAPSE",
    "evaluate_history",
]

ISSUE_SCHEMA_CHANGE = "dq.schema_change"
ISSUE_NULL_RATE_SPIKE = "dq.null_rate_spike"
ISSUE_ZERO_COLLAPSE = "dq.zero_collapse"
ISSUE_ROW_COUNT_DROP = "dq.row_count_drop"
ISSUE_EXPECTATION_FAILED = "dq.expectation_failed"

# The column statistics stored as metrics (contract §7.1 ``dq.stat`` values).
BASELINE_STATS = ("null_rate", "zero_rate", "distinct_count", "min", "max", "mean")

_EPSILON = 1e-12
#: A column with at most this many distinct values in a run is "a few values" (engines).
_FEW_DISTINCT = 5
#: How near (share of the run's range) its mean must be for a value to be the usual one.
_NEAR_MEAN_SHARE = 0.05
#: ... and for a bound of a few-valued run to be a usual one rather than a rare extreme.
_BOUND_NEAR_MEAN_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Baseline:
    """What one earlier run recorded for a dataset.

    ``stats`` maps column → stat name (``BASELINE_STATS``) → value; ``schema`` is
    the ordered ``{column: dtype}`` of the run's schema event, ``None`` when the
    run recorded no schema.
    """

    run_ref: str
    row_count: float | None = None
    schema: Mapping[str, str] | None = None
    stats: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    started_at: str | None = None

    def __post_init__(self) -> None:
        frozen = {column: MappingProxyType(dict(values)) for column, values in self.stats.items()}
        object.__setattr__(self, "stats", MappingProxyType(frozen))
        if self.schema is not None:
            object.__setattr__(self, "schema", MappingProxyType(dict(self.schema)))

    @classmethod
    def from_profile(cls, profile: FrameProfile, run_ref: str, *,
                     started_at: str | None = None) -> Baseline:
        """The baseline a run leaves behind when it captured ``profile``."""
        stats: dict[str, dict[str, float]] = {}
        for column in profile.columns:
            values = {}
            for stat in BASELINE_STATS:
                value = getattr(column, stat)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    values[stat] = value
            stats[column.name] = values
        return cls(run_ref=run_ref, row_count=profile.row_count, schema=dict(profile.schema),
                   stats=stats, started_at=started_at)

    def stat(self, column: str, stat: str) -> float | None:
        return self.stats.get(column, {}).get(stat)


def _series(baselines: Sequence[Baseline], column: str,
            stat: str) -> tuple[list[float], list[str]]:
    values, refs = [], []
    for baseline in baselines:
        value = baseline.stat(column, stat)
        if value is not None:
            values.append(float(value))
            refs.append(baseline.run_ref)
    return values, refs


def _pstdev(values: Sequence[float]) -> float:
    """Population standard deviation in floats (``statistics.pstdev`` goes through
    exact fractions: a hundred times slower, and read-time checks call this a lot)."""
    count = len(values)
    mean = math.fsum(values) / count
    return math.sqrt(math.fsum((value - mean) ** 2 for value in values) / count)


def _margin(values: Sequence[float], floor: float, sigmas: float) -> float:
    spread = _pstdev(values) if len(values) > 1 else 0.0
    return max(floor, sigmas * spread)


def _schema_diff(old: Mapping[str, str], new: Mapping[str, str],
                 ) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Columns added, removed and retyped from ``old`` to ``new`` (order is not a change)."""
    added = [name for name in new if name not in old]
    removed = [name for name in old if name not in new]
    retyped = {
        name: [old[name], new[name]] for name in new if name in old and old[name] != new[name]
    }
    return added, removed, retyped


def _schema_reference(profile: FrameProfile, baselines: Sequence[Baseline],
                      latest: Baseline | None) -> Baseline | None:
    """The run whose schema a change is reported against, or ``None`` for no change.

    Normally the newest healthy baseline. When a newer run was left out for its findings,
    its schema counts too: matching it means the change was reported already (a lasting
    vendor change is flagged once), and matching the healthy one means the feed came back.
    """
    healthy = next((b for b in baselines if b.schema is not None), None)
    if latest is None or latest.schema is None or (
            healthy is not None and latest.run_ref == healthy.run_ref):
        return healthy
    current = dict(profile.schema)
    for known in (latest, healthy):
        if known is not None and known.schema is not None \
                and not any(_schema_diff(known.schema, current)):
            return None
    return latest


def _schema_change(profile: FrameProfile, baselines: Sequence[Baseline],
                   dataset: str, latest: Baseline | None = None) -> Finding | None:
    reference = _schema_reference(profile, baselines, latest)
    if reference is None or reference.schema is None:
        return None
    old, new = dict(reference.schema), dict(profile.schema)
    added, removed, retyped = _schema_diff(old, new)
    if not (added or removed or retyped):
        return None
    parts = []
    if removed:
        parts.append("removed " + ", ".join(removed))
    if added:
        parts.append("added " + ", ".join(added))
    if retyped:
        parts.append("retyped " + ", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in retyped.items()))
    summary = (f"schema of dataset {dataset!r} changed since run {reference.run_ref}: "
               + "; ".join(parts))
    return Finding(
        issue_key=ISSUE_SCHEMA_CHANGE,
        severity="error" if removed or retyped else "warning",
        summary=summary,
        dataset=dataset,
        attributes={
            "dataset": dataset, "added": added, "removed": removed, "type_changed": retyped,
            "baseline_run_id": reference.run_ref, "baseline_run_refs": [reference.run_ref],
            "baseline_columns": dict(old), "columns": new,
            "schema_fingerprint": profile.schema_fingerprint,
        },
    )


def _row_count_drop(profile: FrameProfile, baselines: Sequence[Baseline],
                    thresholds: QualityThresholds, dataset: str) -> Finding | None:
    pairs = [(float(b.row_count), b.run_ref) for b in baselines if b.row_count is not None]
    if not pairs:
        return None
    values = [value for value, _ in pairs]
    smallest = min(values)
    if smallest <= 0:
        return None
    current = profile.row_count
    drop = 1.0 - current / smallest
    noise = _margin(values, 0.0, thresholds.noise_sigmas)
    if drop + _EPSILON < thresholds.row_count_min_drop:
        return None
    if statistics.fmean(values) - current < noise:
        return None
    if current == 0:
        return _emptied(dataset, values, [ref for _, ref in pairs])
    return Finding(
        issue_key=ISSUE_ROW_COUNT_DROP,
        severity="error" if current == 0 else "warning",
        summary=(f"dataset {dataset!r} has {current} rows, {drop:.0%} fewer than the smallest of "
                 f"{len(values)} baseline runs ({int(smallest)})"),
        dataset=dataset,
        attributes={
            "dataset": dataset, "stat": "row_count", "value": current,
            "baseline_min": smallest, "baseline_max": max(values),
            "baseline_values": values, "baseline_run_refs": [ref for _, ref in pairs],
            "baseline_run_count": len(values), "drop_fraction": drop,
            "threshold": thresholds.row_count_min_drop,
        },
    )


def _emptied(dataset: str, values: Sequence[float], refs: Sequence[str]) -> Finding:
    """An empty dataset where every baseline run had rows: §7's ``zero_collapse`` of
    ``row_count``, whichever way the statistic was recorded."""
    smallest = min(values)
    return Finding(
        issue_key=ISSUE_ZERO_COLLAPSE,
        severity="error",
        summary=(f"dataset {dataset!r} collapsed to 0 rows (every one of {len(values)} "
                 f"baseline runs had rows, at least {int(smallest)})"),
        dataset=dataset,
        attributes={
            "dataset": dataset, "stat": "row_count", "rule": "row_count_zero", "value": 0,
            "baseline_min": smallest, "baseline_max": max(values),
            "baseline_values": list(values), "baseline_run_refs": list(refs),
            "baseline_run_count": len(values),
        },
    )


def _null_rate_spike(column: ColumnProfile, limits: ColumnThresholds, baselines: Sequence[Baseline],
                     sigmas: float, dataset: str) -> Finding | None:
    values, refs = _series(baselines, column.name, "null_rate")
    current = column.null_rate
    if not values or current is None or limits.null_rate_min_increase is None:
        return None
    top = max(values)
    needed = _margin(values, limits.null_rate_min_increase, sigmas)
    if current - top + _EPSILON < needed:
        return None
    severity: FindingSeverity = "error" if current >= max(0.5, 10 * top) else "warning"
    return Finding(
        issue_key=ISSUE_NULL_RATE_SPIKE,
        severity=severity,
        summary=(f"null rate of {dataset}.{column.name} rose to {current:.4f} "
                 f"(largest of {len(values)} baseline runs: {top:.4f})"),
        dataset=dataset,
        column=column.name,
        attributes={
            "dataset": dataset, "column": column.name, "value": current,
            "null_count": column.null_count, "row_count": column.row_count,
            "baseline_max": top, "baseline_min": min(values), "baseline_values": values,
            "baseline_run_refs": refs, "baseline_run_count": len(values),
            "min_increase": limits.null_rate_min_increase, "required_increase": needed,
        },
    )


def _varied(baseline: Baseline, column: str) -> bool | None:
    distinct = baseline.stat(column, "distinct_count")
    low, high = baseline.stat(column, "min"), baseline.stat(column, "max")
    if low is not None and high is not None:
        return low < high
    if distinct is not None:
        return distinct > 1
    return None


def _zero_share(zero_rate: float | None, null_rate: float | None) -> float | None:
    """Share of the non-null values that are zero, from rates over all rows."""
    if zero_rate is None:
        return None
    present = 1.0 - (null_rate or 0.0)
    if present <= _EPSILON:
        return None
    return min(1.0, zero_rate / present)


def _zeroed(column: ColumnProfile, limits: ColumnThresholds, baselines: Sequence[Baseline],
            thresholds: QualityThresholds) -> dict[str, object] | None:
    """(Nearly) every non-null value is zero, in a column whose baseline clearly was not.

    An ordinary rise in zeros (calm winds: 1 % of hours one day, 23 % the next) is data;
    a collapse is a column filled with zeros where there used to be values.
    """
    if column.zero_count is None or limits.zero_rate_min_increase is None:
        return None
    present = column.non_null_count
    if present == 0 or present < (thresholds.constant_min_rows or 0):
        return None
    share = column.zero_count / present
    if share + _EPSILON < thresholds.zero_collapse_min_rate:
        return None
    shares, refs, rates = [], [], []
    for baseline in baselines:
        rate = baseline.stat(column.name, "zero_rate")
        value = _zero_share(rate, baseline.stat(column.name, "null_rate"))
        if rate is not None and value is not None:
            shares.append(value)
            rates.append(float(rate))
            refs.append(baseline.run_ref)
    if not shares or max(shares) > thresholds.zero_collapse_baseline_max + _EPSILON:
        return None
    needed = _margin(shares, limits.zero_rate_min_increase, thresholds.noise_sigmas)
    if share - max(shares) + _EPSILON < needed:
        return None
    return {"rule": "zero_rate_rise", "value": column.zero_rate, "zero_share": share,
            "baseline_values": rates, "baseline_zero_shares": shares,
            "baseline_run_refs": refs, "baseline_min": min(rates), "baseline_max": max(rates),
            "baseline_max_share": max(shares), "required_increase": needed,
            "min_zero_share": thresholds.zero_collapse_min_rate}


def _usual_in(baseline: Baseline, name: str, value: float) -> bool:
    """``value`` is where this baseline run's column sat.

    A bound of the run counts (a cap or a floor the column is pinned at), except a
    rare far extreme of a few-valued column (four engines when nearly all planes have
    two); the value a few-valued column nearly always takes counts too (its mean sits
    on it, though it is neither bound).
    """
    low, high = baseline.stat(name, "min"), baseline.stat(name, "max")
    distinct, mean = baseline.stat(name, "distinct_count"), baseline.stat(name, "mean")
    few_valued = (distinct is not None and distinct <= _FEW_DISTINCT and mean is not None
                  and low is not None and high is not None and high > low)
    if not few_valued:
        return value in (low, high)
    spread = high - low
    if value in (low, high):
        return abs(mean - value) <= _BOUND_NEAR_MEAN_SHARE * spread
    return abs(mean - value) <= _NEAR_MEAN_SHARE * spread


def _at_usual_value(column: ColumnProfile, baselines: Sequence[Baseline]) -> bool:
    """The constant value is where the column usually sits, in most baseline runs.

    Measurements pinned at a bound they reach on most days (visibility at its 10-mile
    cap, rain at 0 mm) stay there for a whole quiet day, even after a foggy day that
    never reached the cap (2013-10-06 in the demo's data); a column of a few values
    that is nearly always one of them (two engines) is sometimes only that one. A
    column filled with a default lands elsewhere; a continuous column filled with its
    mean has many distinct values in its baseline, so it is still judged; text has no
    bounds and is always judged.
    """
    value = column.min
    if not isinstance(value, int | float) or isinstance(value, bool) or not baselines:
        return False
    usual = sum(_usual_in(baseline, column.name, value) for baseline in baselines)
    return usual * 2 > len(baselines)


def _became_constant(column: ColumnProfile, limits: ColumnThresholds,
                     baselines: Sequence[Baseline],
                     thresholds: QualityThresholds) -> dict[str, object] | None:
    """A column that varied in every one of at least ``constant_min_baseline_runs``
    baseline runs now holds one repeated value."""
    if not (limits.detect_constant and column.is_constant
            and column.non_null_count >= (thresholds.constant_min_rows or 0)):
        return None
    known = [(b, varied) for b in baselines if (varied := _varied(b, column.name)) is not None]
    if len(known) < thresholds.constant_min_baseline_runs:
        return None
    if not all(varied for _, varied in known) or _at_usual_value(column, [b for b, _ in known]):
        return None
    lows = [low for b, _ in known if (low := b.stat(column.name, "min")) is not None]
    highs = [high for b, _ in known if (high := b.stat(column.name, "max")) is not None]
    distinct = [d for b, _ in known if (d := b.stat(column.name, "distinct_count")) is not None]
    return {"rule": "became_constant",
            "value": column.min if column.min is not None else column.distinct_count,
            "baseline_run_refs": [b.run_ref for b, _ in known],
            "baseline_min": min(lows) if lows else None,
            "baseline_max": max(highs) if highs else None,
            "baseline_distinct_counts": distinct}


def _zero_collapse(column: ColumnProfile, limits: ColumnThresholds, baselines: Sequence[Baseline],
                   thresholds: QualityThresholds, dataset: str) -> Finding | None:
    all_zero = (column.zero_count is not None and column.non_null_count > 0
                and column.zero_count == column.non_null_count)
    evidence = _zeroed(column, limits, baselines, thresholds)
    if evidence is None:
        evidence = _became_constant(column, limits, baselines, thresholds)
    if evidence is None:
        return None
    refs = evidence["baseline_run_refs"]
    run_count = len(refs) if isinstance(refs, list) else 0
    if evidence["rule"] == "zero_rate_rise":
        what = "all zeros" if all_zero else f"{evidence['zero_share']:.2%} zeros"
        summary = (f"{dataset}.{column.name} collapsed to {what} (baseline zero rate at most "
                   f"{evidence['baseline_max']:.4f} over {run_count} runs)")
        severity: FindingSeverity = "error" if all_zero else "warning"
    else:
        summary = (f"{dataset}.{column.name} became constant ({evidence['value']!r}) after "
                   f"varying in every one of {run_count} baseline runs")
        severity = "error"
    return Finding(
        issue_key=ISSUE_ZERO_COLLAPSE,
        severity=severity,
        summary=summary,
        dataset=dataset,
        column=column.name,
        attributes={"dataset": dataset, "column": column.name, **evidence, "all_zero": all_zero,
                    "zero_rate": column.zero_rate, "distinct_count": column.distinct_count,
                    "baseline_run_count": run_count},
    )


def evaluate_history(profile: FrameProfile, baselines: Sequence[Baseline],
                     thresholds: QualityThresholds | None = None, *,
                     dataset: str, latest: Baseline | None = None) -> tuple[Finding, ...]:
    """Findings of ``profile`` against ``baselines`` (newest first).

    Runs the schema, row-count, null-rate and zero-collapse rules; returns an
    empty tuple when fewer than ``thresholds.min_history_runs`` baselines exist
    (the profile then becomes the first baseline). ``latest`` is the newest earlier
    profile of the dataset when findings kept it out of ``baselines``; only the schema
    rule looks at it.
    """
    thresholds = thresholds or QualityThresholds()
    if len(baselines) < thresholds.min_history_runs:
        return ()
    findings: list[Finding] = []
    if thresholds.detect_schema_change:
        schema = _schema_change(profile, baselines, dataset, latest)
        if schema is not None:
            findings.append(schema)
    drop = _row_count_drop(profile, baselines, thresholds, dataset)
    if drop is not None:
        findings.append(drop)
    for column in profile.columns:
        limits = thresholds.for_column(column.name)
        if limits.ignore:
            continue
        spike = _null_rate_spike(column, limits, baselines, thresholds.noise_sigmas, dataset)
        if spike is not None:
            findings.append(spike)
        collapse = _zero_collapse(column, limits, baselines, thresholds, dataset)
        if collapse is not None:
            findings.append(collapse)
    return tuple(findings)
