"""The pipeline's stage functions: plain pandas, no observability code.

The same code runs every night. The join stage hands downstream a fixed set of columns
(``JOINED_COLUMNS``) with ``DataFrame.reindex``, a common way to pin a schema; a column
the vendor stops sending therefore turns into NULLs instead of an error, and the feature
stage then fills those NULLs with 0.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FEATURE_COLUMNS",
    "JOINED_COLUMNS",
    "JoinResult",
    "build_features",
    "day_flights",
    "join_batch",
    "read_feed",
    "write_features",
]

JOINED_COLUMNS = (
    # flights
    "year",
    "dep_delay",
    "arr_delay",
    "carrier",
    "flight",
    "tailnum",
    "origin",
    "dest",
    "distance",
    "hour",
    "time_hour",
    # vendor weather
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "precip",
    "visib",
    # plane registry
    "plane_year",
    "seats",
    "engines",
)

FEATURE_COLUMNS = (
    "time_hour",
    "origin",
    "dest",
    "carrier",
    "tailnum",
    "dep_delay",
    "arr_delay",
    "sched_hour",
    "distance",
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "visib",
    "precip",
    "plane_age",
    "seats",
    "engines",
)


def day_flights(flights: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    """The flights scheduled on ``date`` (local calendar day)."""
    mask = (
        (flights["year"] == date.year)
        & (flights["month"] == date.month)
        & (flights["day"] == date.day)
    )
    return flights.loc[mask]


def read_feed(path: Path) -> pd.DataFrame:
    """Read the vendor's weather file as delivered."""
    import pandas as pd

    return pd.read_csv(path)


class JoinResult:
    """A joined batch plus the match counts worth recording."""

    __slots__ = ("frame", "plane_matched", "weather_matched")

    def __init__(self, frame: pd.DataFrame, weather_matched: int, plane_matched: int) -> None:
        self.frame = frame
        self.weather_matched = weather_matched
        self.plane_matched = plane_matched


def join_batch(flights: pd.DataFrame, feed: pd.DataFrame, planes: pd.DataFrame) -> JoinResult:
    """Join one origin's flights with the weather feed (origin, hour) and the plane registry."""
    merged = flights.merge(feed, on=["origin", "time_hour"], how="left", indicator="_weather")
    weather_matched = int((merged["_weather"] == "both").sum())
    registry = planes.loc[:, ["tailnum", "year", "seats", "engines"]].rename(
        columns={"year": "plane_year"}
    )
    merged = merged.merge(registry, on="tailnum", how="left", indicator="_plane")
    plane_matched = int((merged["_plane"] == "both").sum())
    # Hand downstream a fixed schema. A column missing from the feed becomes NULLs here.
    joined = merged.reindex(columns=list(JOINED_COLUMNS))
    return JoinResult(joined, weather_matched, plane_matched)


def build_features(joined: pd.DataFrame) -> pd.DataFrame:
    """Derive the model features of one batch; missing numbers become 0."""
    import pandas as pd

    features = pd.DataFrame(
        {
            "time_hour": joined["time_hour"],
            "origin": joined["origin"],
            "dest": joined["dest"],
            "carrier": joined["carrier"],
            "tailnum": joined["tailnum"],
            "dep_delay": joined["dep_delay"],
            "arr_delay": joined["arr_delay"],
            "sched_hour": joined["hour"],
            "distance": joined["distance"],
            "temp": joined["temp"],
            "dewp": joined["dewp"],
            "humid": joined["humid"],
            "wind_dir": joined["wind_dir"],
            "wind_speed": joined["wind_speed"],
            "visib": joined["visib"],
            "precip": joined["precip"],
            "plane_age": joined["year"] - joined["plane_year"],
            "seats": joined["seats"],
            "engines": joined["engines"],
        }
    )
    numeric = features.select_dtypes("number").columns
    features[numeric] = features[numeric].fillna(0).astype("float64")
    return features.reset_index(drop=True)


def write_features(features: pd.DataFrame, path: Path) -> int:
    """Write one batch of the feature table as Parquet; return the file size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    features.to_parquet(path, index=False, engine="pyarrow")
    return path.stat().st_size
