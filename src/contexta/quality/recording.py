"""How a profile is written down: metric keys, tags and the schema event (contract §7.1).

Statistics become metrics keyed ``<dataset>.<column>.<stat>`` (frame level:
``<dataset>.row_count``) with the names turned into key segments, and tagged
``dq.stat``/``dq.dataset``/``dq.column`` with the exact names, so every query,
trend and report sees them and history lookups never depend on the slugging.
The schema is one event ``<dataset>.schema`` whose attributes hold the exact
dataset name and ``{column: dtype}``. A profile recorded without history checks also
stores the settings they would have used (``deferred_check``), so read time applies
the same ones.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from contexta.quality.models import ColumnProfile, Finding, FrameProfile
from contexta.quality.profiling import storable_profile
from contexta.quality.rules import (
    ISSUE_NULL_RATE_SPIKE,
    ISSUE_ROW_COUNT_DROP,
    ISSUE_SCHEMA_CHANGE,
    ISSUE_ZERO_COLLAPSE,
)
from contexta.quality.thresholds import ColumnThresholds, QualityThresholds

__all__ = [
    "ATTRIBUTE_CHECKED_BY",
    "ATTRIBUTE_DEFERRED",
    "COLUMN_STATS",
    "ProfileKeys",
    "SOURCE",
    "TAG_APPROXIMATE",
    "TAG_COLUMN",
    "TAG_DATASET",
    "TAG_SOURCE",
    "TAG_STAT",
    "check_settings",
    "finding_evidence",
    "key_segment",
    "metric_items",
    "profile_keys",
    "safe_text",
    "schema_event",
    "settings_record",
]

TAG_STAT = "dq.stat"
TAG_DATASET = "dq.dataset"
TAG_COLUMN = "dq.column"
TAG_APPROXIMATE = "dq.approximate"
# Marks statistics this layer has already judged against their history with
# noise-aware thresholds; diagnostics then report the layer's findings instead
# of re-judging the numbers with the stricter computed rules of contract §7.
TAG_SOURCE = "dq.source"
SOURCE = "contexta.quality"
# The schema event's attribute saying this layer already judged it (value ``SOURCE``).
ATTRIBUTE_CHECKED_BY = "checked_by"
# The schema event's attribute holding the settings of checks deferred to read time.
ATTRIBUTE_DEFERRED = "deferred_check"
DEFAULT_HISTORY_RUNS = 7

COLUMN_STATS = ("null_rate", "zero_rate", "distinct_count", "min", "max", "mean")
_SUMMARY_BASIS = "data_profile"
_OUTSIDE = re.compile(r"[^A-Za-z0-9_-]+")
_DATASET_ROOM = 80
_COLUMN_ROOM = 120


def key_segment(text: str, *, first: bool = False, room: int = _COLUMN_ROOM) -> str:
    """``text`` as one segment of a metric/event key (contract §3.2 key rule).

    Accents are folded to ASCII, every run of other characters becomes ``-``.
    Case is kept (keys are case-sensitive). A first segment that would start
    with a digit gets a ``_`` prefix. Overlong names are cut and suffixed with 8
    hex characters of their SHA-256, so distinct names stay distinct.
    """
    folded = "".join(
        char for char in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(char) and ord(char) < 128
    )
    segment = _OUTSIDE.sub("-", folded).strip("-")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if not segment:
        return f"h-{digest}"
    if first and not (segment[0].isalpha() or segment[0] == "_"):
        segment = "_" + segment
    if len(segment) > room:
        segment = segment[: room - 9].rstrip("-") + "-" + digest
    return segment


class ProfileKeys:
    """Key names of one dataset's statistics; column segments made unique in order."""

    def __init__(self, dataset: str, columns: tuple[str, ...]) -> None:
        self.dataset = dataset
        self.prefix = key_segment(dataset, first=True, room=_DATASET_ROOM)
        self._columns: dict[str, str] = {}
        taken: set[str] = set()
        for name in columns:
            base = key_segment(name)
            segment, number = base, 2
            while segment in taken or segment in {"row_count", "schema"}:
                segment = f"{base}-{number}"
                number += 1
            taken.add(segment)
            self._columns[name] = segment

    @property
    def row_count(self) -> str:
        return f"{self.prefix}.row_count"

    @property
    def schema(self) -> str:
        return f"{self.prefix}.schema"

    def column(self, column: str, stat: str) -> str:
        segment = self._columns.get(column) or key_segment(column)
        return f"{self.prefix}.{segment}.{stat}"


def profile_keys(profile: FrameProfile, dataset: str) -> ProfileKeys:
    return ProfileKeys(dataset, profile.column_names)


_INT64 = range(-(2**63), 2**63)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_ROOM = 4096


def safe_text(text: str, limit: int = _TAG_ROOM) -> str:
    """``text`` as storable free text: no lone surrogates or control characters, cut to ``limit``.

    Column names come from user data and may hold anything; the stored models
    reject NUL, most control characters and lone surrogates (contract §3.2).
    """
    cleaned = _CONTROL.sub("\ufffd", text.encode("utf-8", "replace").decode("utf-8"))
    return cleaned[:limit]


def _metric_value(value: int | float) -> int | float:
    """Metric values are int64 or float (contract §3.7): wider ints become floats."""
    return value if isinstance(value, float) or value in _INT64 else float(value)


def _column_values(column: ColumnProfile) -> dict[str, int | float]:
    values: dict[str, int | float] = {}
    if column.null_rate is not None:
        values["null_rate"] = column.null_rate
    if column.kind in ("numeric", "boolean"):
        for stat in ("zero_rate", "min", "max", "mean"):
            value = getattr(column, stat)
            if isinstance(value, int | float) and not isinstance(value, bool):
                values[stat] = value
    if column.distinct_count is not None:
        values["distinct_count"] = column.distinct_count
    return {stat: _metric_value(values[stat]) for stat in COLUMN_STATS if stat in values}


def metric_items(profile: FrameProfile, dataset: str) -> list[dict[str, object]]:
    """``MetricEmission``-shaped mappings for every statistic of ``profile``."""
    profile = storable_profile(profile)
    keys = profile_keys(profile, dataset)
    items: list[dict[str, object]] = [{
        "key": keys.row_count, "value": profile.row_count, "unit": "rows",
        "aggregation_scope": "stage", "summary_basis": _SUMMARY_BASIS,
        "tags": {TAG_STAT: "row_count", TAG_DATASET: dataset, TAG_SOURCE: SOURCE},
    }]
    for column in profile.columns:
        for stat, value in _column_values(column).items():
            tags = {
                TAG_STAT: stat,
                TAG_DATASET: dataset,
                TAG_COLUMN: safe_text(column.name),
                TAG_SOURCE: SOURCE,
            }
            if stat == "distinct_count" and not column.distinct_exact:
                tags[TAG_APPROXIMATE] = "true"
            items.append({
                "key": keys.column(column.name, stat), "value": value,
                "unit": "rows" if stat == "distinct_count" else None,
                "aggregation_scope": "stage", "summary_basis": _SUMMARY_BASIS, "tags": tags,
            })
    return items


def schema_event(profile: FrameProfile, dataset: str, *, checked: bool = False,
                 deferred: Mapping[str, object] | None = None,
                 ) -> tuple[str, str, Mapping[str, object]]:
    """``(event_key, message, attributes)`` of the schema event.

    ``checked``: this layer compared the schema with the dataset's history itself;
    the attribute ``checked_by`` tells diagnostics not to compare it again with its
    own baseline window, which may include a broken night this layer left out.
    ``deferred``: the settings (``settings_record``) read-time checks must use.
    """
    profile = storable_profile(profile)  # column names become attribute keys
    keys = profile_keys(profile, dataset)
    attributes: dict[str, object] = {
        "dataset": dataset,
        "columns": dict(profile.schema),
        "column_order": list(profile.column_names),
        "row_count": profile.row_count,
        "schema_fingerprint": profile.schema_fingerprint,
    }
    if checked:
        attributes[ATTRIBUTE_CHECKED_BY] = SOURCE
    elif deferred is not None:
        attributes[ATTRIBUTE_DEFERRED] = dict(deferred)
    message = (f"schema of {dataset}: {len(profile.columns)} columns, "
               f"{profile.row_count} rows, fingerprint {profile.schema_fingerprint[:12]}")
    return keys.schema, message, attributes


def finding_evidence(finding: Finding, keys: ProfileKeys, stage: str | None,
                     batch: str | None) -> dict[str, object]:
    """The attributes a finding is stored with: its evidence plus where it was found."""
    # The metric key goes under "metric", not "metric_key": capture redacts values
    # under attribute names containing "key" (security.secret_key_patterns, §8.7).
    attributes = dict(finding.attributes)
    column = finding.column
    if finding.issue_key == ISSUE_NULL_RATE_SPIKE and column is not None:
        attributes.setdefault("metric", keys.column(column, "null_rate"))
    elif finding.issue_key == ISSUE_ZERO_COLLAPSE and column is not None:
        stat = "zero_rate" if attributes.get("rule") == "zero_rate_rise" else "distinct_count"
        attributes.setdefault("metric", keys.column(column, stat))
    elif finding.issue_key in (ISSUE_ROW_COUNT_DROP, ISSUE_ZERO_COLLAPSE):
        attributes.setdefault("metric", keys.row_count)
    elif finding.issue_key == ISSUE_SCHEMA_CHANGE:
        attributes.setdefault("schema_event", keys.schema)
    attributes.update(stage_name=stage, batch_name=batch)
    return attributes


_COLUMN_FIELDS = tuple(item.name for item in fields(ColumnThresholds))


def settings_record(thresholds: QualityThresholds, history_runs: int) -> dict[str, object]:
    """Check settings as plain data for the schema event (see ``check_settings``).

    Per-column overrides are a list with the column name as a value: names are user
    data, and capture redacts values under secret-looking attribute names.
    """
    plain: dict[str, object] = {
        item.name: getattr(thresholds, item.name)
        for item in fields(QualityThresholds) if item.name != "columns"
    }
    plain["columns"] = [
        {"column": name, **{f: getattr(own, f) for f in _COLUMN_FIELDS
                            if getattr(own, f) is not None}}
        for name, own in thresholds.columns.items()
    ]
    return {"history_runs": history_runs, "thresholds": plain}


def check_settings(record: object) -> tuple[QualityThresholds, int]:
    """``(thresholds, history_runs)`` from ``settings_record`` data; defaults when absent.

    Raises ``ValidationError`` (or ``TypeError``) for a damaged record.
    """
    if not isinstance(record, Mapping):
        return QualityThresholds(), DEFAULT_HISTORY_RUNS
    runs = record.get("history_runs", DEFAULT_HISTORY_RUNS)
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= 1000:
        msg = f"history_runs: {runs!r} is not an int from 1 to 1000"
        raise TypeError(msg)
    data: Any = record.get("thresholds")
    if data is None:
        return QualityThresholds(), runs
    if not isinstance(data, Mapping):
        msg = f"thresholds: {type(data).__name__} is not a mapping"
        raise TypeError(msg)
    plain = dict(data)
    columns = plain.pop("columns", None) or []
    if not isinstance(columns, list) or not all(
            isinstance(c, Mapping) and "column" in c for c in columns):
        msg = "thresholds.columns: expected a list of mappings with a column name"
        raise TypeError(msg)
    overrides = {str(c["column"]): {k: v for k, v in c.items() if k != "column"}
                 for c in columns}
    return QualityThresholds.from_mapping({**plain, "columns": overrides}), runs
