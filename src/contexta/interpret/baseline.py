"""Which earlier runs a run is compared with, and the anomaly rule of contract §5.11.

"Baseline runs" (contract §7): up to ``trend.default_window_runs`` most recent ``completed``
runs of the same project that started before the run, ties broken by ref. The project's run
order is computed once per data version, so picking a baseline costs O(window).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contexta.interpret.instants import instant_key

if TYPE_CHECKING:
    from contexta.interpret.state import ReadState

__all__ = [
    "AnomalyScore",
    "baseline_runs",
    "could_exceed",
    "percentile",
    "project_order",
    "score_value",
    "severity_for",
]

_MAX_FLOAT = sys.float_info.max


def project_order(state: ReadState, project_ref: str) -> tuple[list[Any], dict[str, int]]:
    """The project's runs by (``started_at`` instant, ref) and each run's index (cached)."""
    key = ("project_order", project_ref)
    cached = state.extras.get(key)
    if cached is None:
        ordered = sorted(
            state.runs(project_ref), key=lambda r: (instant_key(r.started_at), str(r.run_ref))
        )
        cached = (ordered, {str(run.run_ref): index for index, run in enumerate(ordered)})
        state.extras[key] = cached
    return cached


def baseline_runs(state: ReadState, run: Any, window: int) -> tuple[Any, ...]:
    """Baseline runs of ``run``, most recent first."""
    ordered, position = project_order(state, str(run.project_ref))
    index = position.get(str(run.run_ref))
    if index is None:  # the run is not (yet) in this version's list: place it by its key
        target = (instant_key(run.started_at), str(run.run_ref))
        index = sum(1 for r in ordered if (instant_key(r.started_at), str(r.run_ref)) < target)
    found: list[Any] = []
    cursor = index - 1
    while cursor >= 0 and len(found) < window:
        candidate = ordered[cursor]
        if candidate.status == "completed":
            found.append(candidate)
        cursor -= 1
    return tuple(found)


@dataclass(frozen=True, slots=True)
class AnomalyScore:
    """The §5.11 rule applied to one value: baseline statistics, z-score and severity."""

    mean: float
    std: float
    scale: float
    z_score: float
    expected_range: tuple[float, float]
    severity: str
    baseline_count: int


def _mean_std(values: list[float]) -> tuple[float, float]:
    n = len(values)
    if values.count(values[0]) == n:  # constant history: exact, the common healthy case
        return values[0], 0.0
    try:
        mean = math.fsum(values) / n
        std = math.sqrt(sum([(v - mean) * (v - mean) for v in values]) / n)
        if math.isfinite(mean) and math.isfinite(std):
            return mean, std
    except OverflowError:
        pass
    # Huge magnitudes: compute on values scaled into [-1, 1] so nothing overflows.
    top = max(abs(v) for v in values)
    scaled = [v / top for v in values]
    mean_u = math.fsum(scaled) / n
    std_u = math.sqrt(math.fsum([(u - mean_u) ** 2 for u in scaled]) / n)
    return mean_u * top, min(std_u * top, _MAX_FLOAT)


def _clamp(value: float) -> float:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return 0.0
    return _MAX_FLOAT if value > 0 else -_MAX_FLOAT


def severity_for(z_score: float, threshold: float) -> str:
    magnitude = abs(z_score)
    if magnitude < threshold:
        return "info"
    if magnitude < 1.5 * threshold:
        return "warning"
    return "error"


def score_value(
    value: float, baseline: list[float], threshold: float, *, scale: float | None = None
) -> AnomalyScore:
    """Apply the anomaly rule: ``s = max(std, 0.01*|mean|, 1e-9)``, ``z = (x - mean)/s``.

    ``baseline`` holds finite floats only. A constant history still flags a jump (the scale
    floor), and ``z`` is always finite.
    """
    mean, std = _mean_std(baseline)
    if scale is None:
        scale = max(std, 0.01 * abs(mean), 1e-9)
    value = float(value)
    z_score = _clamp((value - mean) / scale)
    spread = threshold * scale
    expected = (_clamp(mean - spread), _clamp(mean + spread))
    return AnomalyScore(
        mean, std, scale, z_score, expected, severity_for(z_score, threshold), len(baseline)
    )


def could_exceed(value: float, baseline: list[float], threshold: float) -> bool:
    """Whether ``score_value`` would give at least ``warning`` (same arithmetic, no objects)."""
    mean, std = _mean_std(baseline)
    scale = max(std, 0.01 * abs(mean), 1e-9)
    z_score = _clamp((value - mean) / scale)
    return abs(z_score) >= threshold


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile of sorted ``values`` (``fraction`` in [0, 1])."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    weight = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * weight
