"""Benchmark: ``contexta.quality.profile_frame`` on a 1,000,000-row x 20-column frame.

Usage: ``.venv/bin/python bench/profile.py [--rows N] [--repeat R] [--no-whylogs]``

Reports rows/s for pandas, polars (eager and lazy) and pyarrow inputs, and for the
comparisons measured in the same run on the same pandas frame:

* whylogs ``why.log(frame)`` when whylogs imports (it is not a project dependency;
  ``pip install whylogs`` into the venv to include it). whylogs 1.6 still refers to
  ``numpy.unicode_``, removed in NumPy 2; the script restores that alias (to
  ``numpy.str_``) before importing whylogs so it can run at all.
* pandas ``describe()`` plus ``isna().mean()``, always (the fallback baseline of
  issue 5, and a useful floor either way).

Each timing is the best of ``--repeat`` interleaved rounds (whylogs: one run, it
is slow).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any


def build_frame(rows: int) -> Any:
    """8 float (1 % NaN), 6 int, 3 string, 2 bool and 1 datetime columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    data: dict[str, Any] = {}
    for i in range(8):
        values = rng.normal(100, 15, rows)
        values[rng.random(rows) < 0.01] = np.nan
        data[f"f{i}"] = values
    for i in range(6):
        data[f"i{i}"] = rng.integers(0, 1000, rows)
    for i in range(3):
        data[f"s{i}"] = pd.array(rng.choice([f"cat{j}" for j in range(50)], rows), dtype="str")
    data["b0"] = rng.random(rows) < 0.3
    data["b1"] = rng.random(rows) < 0.5
    data["t0"] = pd.date_range("2020-01-01", periods=rows, freq="s")
    return pd.DataFrame(data)


def best_of(repeat: int, func: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def _whylogs() -> Any | None:
    try:
        import numpy as np

        if not hasattr(np, "unicode_"):
            np.unicode_ = np.str_  # type: ignore[attr-defined]  # whylogs 1.6 vs NumPy 2
        import whylogs
    except ImportError:
        return None
    return whylogs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-whylogs", action="store_true")
    args = parser.parse_args()

    import polars as pl

    from contexta.quality import profile_frame

    frame = build_frame(args.rows)
    rows, columns = frame.shape
    polars_frame = pl.from_pandas(frame)
    inputs = {
        "pandas": frame,
        "polars": polars_frame,
        "polars lazy": polars_frame.lazy(),
        "pyarrow": polars_frame.to_arrow(),
    }
    print(f"frame: {rows:,} rows x {columns} columns "
          f"(8 float with 1% NaN, 6 int, 3 string, 2 bool, 1 datetime)")
    profile_frame(frame.head(1000))  # import narwhals and warm up outside the timings
    contenders: dict[str, Callable[[], object]] = {
        f"contexta profile_frame ({name})": (lambda native=native: profile_frame(native))
        for name, native in inputs.items()
    }

    def describe() -> None:
        frame.describe()
        frame.isna().mean()

    contenders["pandas describe() + isna().mean()"] = describe
    # Rounds interleave the contenders, so a busy machine slows all of them alike.
    results = dict.fromkeys(contenders, float("inf"))
    for _ in range(args.repeat):
        for name, func in contenders.items():
            results[name] = min(results[name], best_of(1, func))
    whylogs = None if args.no_whylogs else _whylogs()
    if whylogs is not None:
        results[f"whylogs {whylogs.__version__} why.log (pandas)"] = best_of(
            1, lambda: whylogs.log(frame))
    else:
        print("whylogs: not measured (not installed, or --no-whylogs)")

    width = max(len(name) for name in results)
    for name, seconds in results.items():
        print(f"{name:<{width}}  {seconds:8.3f} s  {rows / seconds:>14,.0f} rows/s")
    ours = results["contexta profile_frame (pandas)"]
    for name, seconds in results.items():
        if not name.startswith("contexta"):
            print(f"contexta (pandas input) vs {name}: {seconds / ours:.1f}x faster")


if __name__ == "__main__":
    main()
