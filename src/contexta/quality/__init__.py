"""Data quality: profile the frames a pipeline sees and check them against history.

``profile_frame`` turns a pandas, polars or pyarrow frame into a ``FrameProfile``
of plain numbers through one narwhals code path (one aggregate ``select``).
Inside a capture scope, ``scope.profile(frame, name=...)`` stores the profile as
``dq.*``-tagged metrics plus a schema event (contract §7.1) and compares it with
the same dataset in the same stage of the previous completed runs: schema
changes, null-rate spikes, collapses to zero or to a constant, and row-count
drops become ``DegradedRecord``s (category ``verification``) that
``diagnose_run`` and ``contexta check`` report, without the pipeline author
writing a check. The rules demand an absolute change as well as a margin over the
baseline's own noise, so they fire on a perfectly constant history and stay
quiet on ordinary day-to-day wobble. Importing this package loads no dataframe
library; narwhals is imported on the first profile that needs it (plain pandas frames
with everyday dtypes are profiled with NumPy alone).
"""

from __future__ import annotations

from contexta.quality.capture import capture_expectation, capture_profile
from contexta.quality.expectations import Expectation, evaluate_expectation
from contexta.quality.models import ColumnProfile, ExpectationResult, Finding, FrameProfile
from contexta.quality.profiling import profile_frame
from contexta.quality.rules import (
    ISSUE_EXPECTATION_FAILED,
    ISSUE_NULL_RATE_SPIKE,
    ISSUE_ROW_COUNT_DROP,
    ISSUE_SCHEMA_CHANGE,
    ISSUE_ZERO_COLLAPSE,
    Baseline,
    evaluate_history,
)
from contexta.quality.summary import RunQualitySummary, summarize_run
from contexta.quality.thresholds import ColumnThresholds, QualityThresholds

__all__ = [
    "profile_frame",
    "FrameProfile",
    "ColumnProfile",
    "QualityThresholds",
    "ColumnThresholds",
    "Finding",
    "Baseline",
    "evaluate_history",
    "Expectation",
    "ExpectationResult",
    "evaluate_expectation",
    "capture_profile",
    "capture_expectation",
    "RunQualitySummary",
    "summarize_run",
    "ISSUE_SCHEMA_CHANGE",
    "ISSUE_NULL_RATE_SPIKE",
    "ISSUE_ZERO_COLLAPSE",
    "ISSUE_ROW_COUNT_DROP",
    "ISSUE_EXPECTATION_FAILED",
]
