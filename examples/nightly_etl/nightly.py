"""One night of the pipeline, captured with Contexta's public scope API.

Observability here is only what a pipeline author would write: scopes, row counts and
durations as metrics, a few events, and ``profile(...)`` of the vendor feed, the joined
table and the feature table. There is no check for the wind column anywhere: the
data-quality layer compares each profile with the history of earlier nights by itself.
``checks=False`` leaves that comparison to read time (``diagnose_run``, ``contexta check``),
so the nightly job does not read a week of history while it runs; the findings are the
same as checks at capture time would store.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nightly_etl.source import ORIGINS, SourceData
from nightly_etl.stages import (
    build_features,
    day_flights,
    join_batch,
    read_feed,
    write_features,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NightResult", "run_night"]


@dataclass(frozen=True)
class NightResult:
    """What the scheduler sees: rows written and files; the job 'succeeded'."""

    date: dt.date
    rows_written: int
    files: tuple[Path, ...]


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def run_night(
    ctx: Any,
    source: SourceData,
    *,
    night: int,
    date: dt.date,
    feed_path: Path,
    out_dir: Path,
) -> NightResult:
    """Run the four stages for ``date`` inside one Contexta run."""
    import pandas as pd

    tags = {"night": str(night), "date": date.isoformat(), "pipeline": "nycflights-features"}
    with ctx.run(f"etl-{date.isoformat()}", tags=tags) as run:
        run_started = time.perf_counter()

        with run.stage("extract") as stage:
            started = time.perf_counter()
            flights = day_flights(source.flights, date)
            feed = read_feed(feed_path)
            stage.event(
                "vendor.feed_received",
                message=f"weather feed {feed_path.name}: {len(feed)} rows",
                attributes={"file": feed_path.name, "rows": len(feed)},
            )
            stage.profile(feed, name="weather", checks=False)
            parts: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
            for origin in ORIGINS:
                with stage.batch(origin) as batch:
                    batch_started = time.perf_counter()
                    origin_flights = flights.loc[flights["origin"] == origin]
                    origin_feed = feed.loc[feed["origin"] == origin]
                    parts[origin] = (origin_flights, origin_feed)
                    batch.metric("rows", len(origin_flights))
                    batch.metric("weather_rows", len(origin_feed))
                    batch.metric("duration_ms", _elapsed_ms(batch_started), unit="ms")
            stage.metric("rows", len(flights))
            stage.metric("duration_ms", _elapsed_ms(started), unit="ms")

        with run.stage("join") as stage:
            started = time.perf_counter()
            joined: dict[str, pd.DataFrame] = {}
            for origin in ORIGINS:
                with stage.batch(origin) as batch:
                    batch_started = time.perf_counter()
                    origin_flights, origin_feed = parts[origin]
                    result = join_batch(origin_flights, origin_feed, source.planes)
                    joined[origin] = result.frame
                    batch.metric("rows", len(result.frame))
                    batch.metric("weather_matched", result.weather_matched)
                    batch.metric("plane_matched", result.plane_matched)
                    batch.metric("duration_ms", _elapsed_ms(batch_started), unit="ms")
            joined_day = pd.concat(joined.values(), ignore_index=True)
            stage.profile(joined_day, name="joined", checks=False)
            stage.metric("rows", len(joined_day))
            stage.metric("duration_ms", _elapsed_ms(started), unit="ms")

        with run.stage("features") as stage:
            started = time.perf_counter()
            features: dict[str, pd.DataFrame] = {}
            for origin in ORIGINS:
                with stage.batch(origin) as batch:
                    batch_started = time.perf_counter()
                    features[origin] = build_features(joined[origin])
                    batch.metric("rows", len(features[origin]))
                    batch.metric("duration_ms", _elapsed_ms(batch_started), unit="ms")
            features_day = pd.concat(features.values(), ignore_index=True)
            stage.profile(features_day, name="features", checks=False)
            stage.metric("rows", len(features_day))
            stage.metric("duration_ms", _elapsed_ms(started), unit="ms")

        with run.stage("write") as stage:
            started = time.perf_counter()
            files: list[Path] = []
            rows_written = 0
            for origin in ORIGINS:
                with stage.batch(origin) as batch:
                    batch_started = time.perf_counter()
                    path = out_dir / date.isoformat() / f"features-{origin.lower()}.parquet"
                    size = write_features(features[origin], path)
                    files.append(path)
                    rows_written += len(features[origin])
                    batch.register_artifact("feature_set", path)
                    batch.metric("rows", len(features[origin]))
                    batch.metric("bytes", size, unit="bytes")
                    batch.metric("duration_ms", _elapsed_ms(batch_started), unit="ms")
            stage.event(
                "features.written",
                message=f"{rows_written} feature rows written to {len(files)} files",
                attributes={"files": [str(p) for p in files], "rows": rows_written},
            )
            stage.metric("rows", rows_written)
            stage.metric("duration_ms", _elapsed_ms(started), unit="ms")

        run.metric("rows_written", rows_written)
        run.metric("duration_ms", _elapsed_ms(run_started), unit="ms")
    return NightResult(date=date, rows_written=rows_written, files=tuple(files))
