"""Plain, frozen results of the data-quality layer: profiles and findings.

Everything here holds only plain Python scalars (``int``, ``float``, ``str``,
``bool``, ``None``), so a profile can be stored, compared, pickled and printed
without the dataframe library that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = [
    "ColumnKind",
    "ColumnProfile",
    "ExpectationResult",
    "Finding",
    "FrameProfile",
    "FindingSeverity",
]

ColumnKind = Literal["numeric", "boolean", "string", "temporal", "other"]
FindingSeverity = Literal["warning", "error"]

Scalar = int | float | str | None


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """Statistics of one column.

    ``null_count`` counts NaN in float columns as null (pandas already does; polars
    and Arrow keep NaN apart, and a NaN that reaches a feature is as missing as a
    null). Rates are over all rows and are ``None`` for an empty frame.
    ``zero_count``/``zero_rate``/``mean``/``std`` exist for numeric and boolean
    columns (``False`` counts as zero, ``mean`` of a boolean is its true rate).
    ``min``/``max`` are numbers for numeric and boolean columns and ISO-8601 text
    for temporal ones. ``std`` is the sample standard deviation (ddof=1).
    ``distinct_count`` counts non-null values; ``distinct_exact`` says whether it
    was counted or estimated (see ``contexta.quality.profiling``).
    """

    name: str
    dtype: str
    kind: ColumnKind
    row_count: int
    null_count: int
    null_rate: float | None
    zero_count: int | None = None
    zero_rate: float | None = None
    distinct_count: int | None = None
    distinct_exact: bool = True
    min: Scalar = None
    max: Scalar = None
    mean: float | None = None
    std: float | None = None

    @property
    def non_null_count(self) -> int:
        return self.row_count - self.null_count

    @property
    def is_constant(self) -> bool:
        """True when the column has non-null values and they are all equal."""
        if self.non_null_count == 0:
            return False
        if self.min is not None and self.max is not None:
            return self.min == self.max
        return self.distinct_count == 1

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "kind": self.kind,
            "row_count": self.row_count,
            "null_count": self.null_count,
            "null_rate": self.null_rate,
            "zero_count": self.zero_count,
            "zero_rate": self.zero_rate,
            "distinct_count": self.distinct_count,
            "distinct_exact": self.distinct_exact,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One data-quality finding, ready to become a ``DegradedRecord`` (contract §7.1).

    ``issue_key`` is one of ``dq.schema_change``, ``dq.null_rate_spike``,
    ``dq.zero_collapse``, ``dq.row_count_drop`` or ``dq.expectation_failed``;
    ``attributes`` carries the evidence (dataset, column, value, baseline values
    and the refs of the baseline runs).
    """

    issue_key: str
    severity: FindingSeverity
    summary: str
    dataset: str | None = None
    column: str | None = None
    attributes: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    @property
    def code(self) -> str:
        """The diagnostics code: the issue key without its ``dq.`` prefix."""
        return self.issue_key.removeprefix("dq.")

    def to_dict(self) -> dict[str, object]:
        return {
            "issue_key": self.issue_key,
            "severity": self.severity,
            "summary": self.summary,
            "dataset": self.dataset,
            "column": self.column,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True, slots=True)
class FrameProfile:
    """Profile of a whole frame: row count, ordered schema, fingerprint, columns.

    ``schema_fingerprint`` is the SHA-256 of the ordered ``name:dtype`` lines, so
    two frames with the same columns in the same order and types share it whatever
    library produced them. ``findings`` is filled when the profile was captured
    into a scope and history checks ran.
    """

    row_count: int
    columns: tuple[ColumnProfile, ...]
    schema_fingerprint: str
    backend: str = "unknown"
    findings: tuple[Finding, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def schema(self) -> Mapping[str, str]:
        """Ordered ``{column: dtype}``."""
        return MappingProxyType({column.name: column.dtype for column in self.columns})

    def column(self, name: str) -> ColumnProfile | None:
        """The profile of ``name``, or ``None`` when the frame has no such column."""
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def to_dict(self) -> dict[str, object]:
        return {
            "row_count": self.row_count,
            "schema_fingerprint": self.schema_fingerprint,
            "backend": self.backend,
            "columns": [column.to_dict() for column in self.columns],
            "findings": [finding.to_dict() for finding in self.findings],
        }


@dataclass(frozen=True, slots=True)
class ExpectationResult:
    """Outcome of ``capture_expectation``: the profile checked and what failed."""

    profile: FrameProfile
    failures: tuple[Finding, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures

    def __bool__(self) -> bool:
        return self.passed
