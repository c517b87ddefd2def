"""Column statistics through narwhals expressions (polars, Arrow and any other backend).

One expression per statistic and column group, never per column: ``nw.col(*names).min()``
is a single expression with one output per column, so building the query costs the same
for 5 columns or 500 and polars or Arrow evaluate it in one ``select``. Outputs come back in
the order of the names given, which is how values are mapped back to columns; each output is
suffixed ``|<stat>`` only to keep the output names unique.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ColumnSpec", "ColumnStats", "aggregate", "build_plan", "sampled_distinct"]

#: Raw backend values per column index: ``null``, ``zero``, ``min``, ``max``, ``mean``,
#: ``std`` and ``distinct`` (non-null distinct values; absent when not counted).
ColumnStats = dict[int, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column to profile: its position in the profile, native name, dtype and kind."""

    index: int
    name: Any
    dtype: str
    kind: str
    is_float: bool


def _groups(specs: Sequence[ColumnSpec]) -> dict[str, list[ColumnSpec]]:
    groups: dict[str, list[ColumnSpec]] = {
        "numeric": [], "unsigned": [], "boolean": [], "temporal": [], "float": [],
        "distinct": [],
    }
    for spec in specs:
        if spec.kind == "numeric" and spec.dtype.startswith("UInt"):
            groups["unsigned"].append(spec)
        elif spec.kind in ("numeric", "boolean", "temporal"):
            groups[spec.kind].append(spec)
        if spec.kind != "other":
            groups["float" if spec.is_float else "distinct"].append(spec)
    return groups


class _Plan:
    """Expressions in output order, with the column indices each one produces."""

    def __init__(self, nw: Any) -> None:
        self.nw = nw
        self.exprs: list[Any] = []
        self.layout: list[tuple[str, list[int]]] = []

    def add(self, stat: str, specs: Sequence[ColumnSpec], build: Callable[[Any], Any]) -> None:
        if not specs:
            return
        columns = self.nw.col(*[spec.name for spec in specs])
        self.exprs.append(build(columns).name.suffix(f"|{stat}"))
        self.layout.append((stat, [spec.index for spec in specs]))

    def run(self, frame: Any, out: ColumnStats) -> None:
        if not self.exprs:
            return
        row = frame.select(self.exprs).rows(named=False)[0]
        position = 0
        for stat, indices in self.layout:
            for index in indices:
                out[index][stat] = row[position]
                position += 1


def _add_numeric(plan: _Plan, group: Sequence[ColumnSpec], cast: Any, zero: Any = 0) -> None:
    def value(c: Any) -> Any:
        return c if cast is None else c.cast(cast)

    plan.add("zero", group, lambda c: (value(c) == zero).sum())
    plan.add("min", group, lambda c: value(c).min())
    plan.add("max", group, lambda c: value(c).max())
    plan.add("mean", group, lambda c: value(c).mean())
    plan.add("std", group, lambda c: value(c).std(ddof=1))


def build_plan(nw: Any, specs: Sequence[ColumnSpec], *, exact_distinct: bool,
               distinct_only: bool = False) -> _Plan:
    """The expressions of ``aggregate``: at most 15, whatever the number of columns."""
    groups = _groups(specs)
    plan = _Plan(nw)
    plan.add("null", specs, lambda c: c.null_count())
    if not distinct_only:
        _add_numeric(plan, groups["numeric"], None)
        # Arrow compares UInt64 with a plain (Int64) literal by casting the column to Int64,
        # which fails past 2**63: compare with an unsigned zero instead.
        _add_numeric(plan, groups["unsigned"], None, nw.lit(0, nw.UInt64))
        _add_numeric(plan, groups["boolean"], nw.Int8)
        plan.add("min", groups["temporal"], lambda c: c.min())
        plan.add("max", groups["temporal"], lambda c: c.max())
    if exact_distinct:
        # -0.0 + 0.0 is +0.0: Arrow counts the two zeros as different values, the others not
        plan.add("n_unique", groups["float"], lambda c: (c + 0.0).n_unique())
        plan.add("n_unique", groups["distinct"], lambda c: c.n_unique())
    return plan


def aggregate(nw: Any, frame: Any, specs: Sequence[ColumnSpec], *, exact_distinct: bool,
              fill_nan: bool, distinct_only: bool = False) -> ColumnStats:
    """Every statistic of ``specs`` in one ``select`` over ``frame``.

    ``fill_nan`` turns NaN into null in the float columns first, so every statistic
    skips them (polars and Arrow keep NaN apart from null). ``distinct_only`` counts
    nulls and distinct values only.
    """
    out: ColumnStats = {spec.index: {} for spec in specs}
    if not specs:
        return out
    floats = [spec.name for spec in specs if spec.is_float]
    if fill_nan and floats:
        frame = frame.with_columns(nw.col(*floats).fill_nan(None))
    build_plan(nw, specs, exact_distinct=exact_distinct, distinct_only=distinct_only).run(
        frame, out)
    if exact_distinct:
        _distinct_from_n_unique(out)
    return out


def _distinct_from_n_unique(out: ColumnStats) -> None:
    # n_unique counts null as one value on every backend
    for stats in out.values():
        if "n_unique" in stats:
            unique = _int(stats.pop("n_unique"))
            stats["distinct"] = unique - (1 if _int(stats.get("null")) else 0)


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def sampled_distinct(nw: Any, frame: Any, specs: Sequence[ColumnSpec], positions: list[int],
                     *, fill_nan: Sequence[Any]) -> dict[int, tuple[int, int]]:
    """``{index: (distinct, non_null)}`` counted on the rows at ``positions``."""
    names = [spec.name for spec in specs]
    sample = frame.select(nw.col(*names))[positions]
    if fill_nan:
        sample = sample.with_columns(nw.col(*fill_nan).fill_nan(None))
    stats = aggregate(nw, sample, specs, exact_distinct=True, fill_nan=False, distinct_only=True)
    rows = len(sample)
    return {
        index: (_int(values.get("distinct")), rows - _int(values.get("null")))
        for index, values in stats.items()
    }
