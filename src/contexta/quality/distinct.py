"""Distinct-count estimate from a sample of rows.

Counting distinct values exactly needs a hash table over the whole column, which
costs more than every other statistic together on a million rows (measured:
pandas ``nunique`` on 1M x 20 takes ~1.1 s, every other statistic ~0.4 s).
Profiles therefore count exactly up to ``DISTINCT_EXACT_ROWS`` rows and above
that count the distinct values ``d`` of a deterministic stratified random sample
of ``n`` rows (about ``DISTINCT_SAMPLE_ROWS``: one row at a seeded random offset in
each of ``n`` equal strata, so periodic data such as ``i % 50`` cannot alias the
way a fixed stride would) out of ``N`` and solve the uniform-frequency model

    d = D * (1 - (1 - n/N) ** (N/D))

for ``D`` (each of ``D`` values appearing ``N/D`` times; a value is missed by
the sample with probability ``(1 - n/N) ** (N/D)``). It gives ``D = N`` for an
all-distinct sample, ``D ~= d`` when every value repeats many times (categories,
flags), and is monotone in between. Skewed columns with many rare values are
under-estimated; the profile marks such counts ``distinct_exact=False``.
"""

from __future__ import annotations

import math
import random

__all__ = ["DISTINCT_EXACT_ROWS", "DISTINCT_SAMPLE_ROWS", "estimate_distinct", "sample_positions"]

DISTINCT_EXACT_ROWS = 100_000
DISTINCT_SAMPLE_ROWS = 50_000
_SEED = 0x5EED

_ITERATIONS = 80


def _expected_distinct(candidate: float, population: int, log_keep: float) -> float:
    # D * (1 - (1 - q) ** (N / D)) computed through exp/log for stability.
    return candidate * -math.expm1(population / candidate * log_keep)


def estimate_distinct(sample_distinct: int, sample_size: int, population: int) -> int:
    """Estimated distinct non-null values of ``population`` rows.

    ``sample_distinct`` distinct values were seen among ``sample_size`` non-null
    sampled rows. The result lies in ``[sample_distinct, population]``.
    """
    if sample_distinct <= 0 or population <= 0:
        return 0
    if sample_size >= population:
        return sample_distinct
    if sample_distinct >= sample_size:
        return population
    log_keep = math.log1p(-sample_size / population)
    low, high = float(sample_distinct), float(population)
    for _ in range(_ITERATIONS):
        middle = (low + high) / 2
        if _expected_distinct(middle, population, log_keep) < sample_distinct:
            low = middle
        else:
            high = middle
        if high - low < 0.5:
            break
    return max(sample_distinct, min(population, round((low + high) / 2)))


def sample_positions(row_count: int, size: int = DISTINCT_SAMPLE_ROWS) -> list[int]:
    """Sorted row positions: one seeded random row in each of ``size`` equal strata.

    Deterministic (fixed seed), so profiling the same frame twice gives the same
    estimate. Returns every position when ``row_count <= size``.
    """
    if row_count <= size:
        return list(range(row_count))
    width = row_count // size
    raw = random.Random(_SEED).randbytes(4 * size)
    offsets = memoryview(raw).cast("I")
    return [stratum * width + offset % width for stratum, offset in enumerate(offsets)]
