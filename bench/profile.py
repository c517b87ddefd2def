"""Benchmark: ``contexta.quality.profile_frame`` on a 1,000,000-row x 20-column frame.

Usage: ``.venv/bin/python bench/profile.py [--rows N] [--repeat R] [--no-whylogs]``
or ``.venv/bin/python bench/profile.py --small [--repeat R]``

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

``--small`` instead reports microseconds per call on frames shaped like the nightly ETL
demo's three profiles (``examples/nightly_etl``): the weather feed (72 x 9), the joined
table (900 x 21) and the feature table (900 x 19), as min and median over ``--repeat``
rounds of ``--calls`` calls each, for pandas input (the demo's) and polars/pyarrow.
The demo's capture budget (5 % of a ~1.3 s night) leaves well under 1 ms per profile.
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


def build_small_frames() -> dict[str, Any]:
    """Frames shaped like the demo's weather feed, joined table and feature table."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    origins = np.array(["EWR", "JFK", "LGA"])
    hours = pd.date_range("2013-01-01 05:00", periods=24, freq="h").strftime("%Y-%m-%d %H:%M:%S")

    def weather(rows: int) -> dict[str, Any]:
        return {
            "temp": rng.normal(38, 6, rows).round(2),
            "dewp": rng.normal(25, 5, rows).round(2),
            "humid": rng.uniform(40, 90, rows).round(2),
            "wind_dir": rng.choice(np.arange(0.0, 370.0, 10.0), rows),
            "wind_speed": rng.gamma(3.0, 3.5, rows).round(5),
            "precip": np.where(rng.random(rows) < 0.9, 0.0, 0.01),
            "visib": np.where(rng.random(rows) < 0.8, 10.0, rng.choice([1.5, 4.0], rows)),
        }

    feed = pd.DataFrame({
        "origin": pd.array(np.repeat(origins, 24), dtype="str"),
        "time_hour": pd.array(np.tile(hours, 3), dtype="str"),
        **weather(72),
    })
    n = 900

    def with_nan(values: Any, share: float) -> Any:
        values = values.astype("float64")
        values[rng.random(n) < share] = np.nan
        return values

    joined = pd.DataFrame({
        "year": np.full(n, 2013),
        "dep_delay": with_nan(rng.normal(10, 30, n).round(), 0.02),
        "arr_delay": with_nan(rng.normal(5, 35, n).round(), 0.03),
        "carrier": pd.array(rng.choice(["UA", "AA", "B6", "DL", "EV"], n), dtype="str"),
        "flight": rng.integers(1, 6000, n),
        "tailnum": pd.array([f"N{i}" for i in rng.integers(100, 800, n)], dtype="str"),
        "origin": pd.array(rng.choice(origins, n), dtype="str"),
        "dest": pd.array(rng.choice(["ATL", "ORD", "LAX", "BOS", "MIA", "SFO"], n),
                         dtype="str"),
        "distance": rng.choice([200, 760, 1400, 2475], n),
        "hour": rng.integers(5, 23, n),
        "time_hour": pd.array(rng.choice(hours, n), dtype="str"),
        **{name: with_nan(values, 0.01) for name, values in weather(n).items()},
        "plane_year": with_nan(rng.integers(1990, 2013, n), 0.1),
        "seats": with_nan(rng.choice([20, 140, 180], n), 0.1),
        "engines": with_nan(rng.choice([1, 2], n), 0.1),
    })
    features = joined.drop(columns=["year", "flight", "hour"]).rename(
        columns={"plane_year": "plane_age"})
    features.insert(5, "sched_hour", joined["hour"].astype("float64"))
    numeric = features.select_dtypes("number").columns
    features[numeric] = features[numeric].fillna(0.0)
    return {"weather": feed, "joined": joined, "features": features}


def run_small(repeat: int, calls: int) -> None:
    import statistics

    import polars as pl

    from contexta.quality import profile_frame

    for name, frame in build_small_frames().items():
        polars_frame = pl.from_pandas(frame)
        inputs = {"pandas": frame, "polars": polars_frame, "pyarrow": polars_frame.to_arrow()}
        rows, columns = frame.shape
        for label, native in inputs.items():
            profile_frame(native)  # warm up: imports, dtype cache
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                for _ in range(calls):
                    profile_frame(native)
                samples.append((time.perf_counter() - start) / calls * 1e6)
            print(f"{name:<9} {rows:>4} x {columns:<3} {label:<8} "
                  f"min {min(samples):8.1f} us  median {statistics.median(samples):8.1f} us"
                  " per call")


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
    parser.add_argument("--small", action="store_true",
                        help="microseconds per call on the demo's three small frame shapes")
    parser.add_argument("--calls", type=int, default=50,
                        help="calls per round with --small")
    args = parser.parse_args()
    if args.small:
        run_small(args.repeat, args.calls)
        return

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
