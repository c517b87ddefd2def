"""Closed value sets of the contract (contract.md §3.5).

The tuples are public; the frozensets beside them make membership checks cheap in the
constructors' hot path.
"""

from __future__ import annotations

__all__ = [
    "ARTIFACT_KINDS",
    "ASSERTION_MODES",
    "COMPLETENESS_MARKERS",
    "CONFIDENCE_MARKERS",
    "CORE_REF_KINDS",
    "CORE_REF_SHAPES",
    "DEGRADATION_MARKERS",
    "DEGRADED_CATEGORIES",
    "DEGRADED_SEVERITIES",
    "EVENT_LEVELS",
    "FLOAT_METRIC_VALUE_TYPES",
    "INTEGER_METRIC_VALUE_TYPES",
    "LINEAGE_ORIGIN_MARKERS",
    "METRIC_AGGREGATION_SCOPES",
    "METRIC_VALUE_TYPES",
    "ORIGIN_MARKERS",
    "RECORD_TYPES",
    "RELATION_TYPES",
    "RUN_STAGE_STATUSES",
    "SCHEMA_VERSION",
    "TRACE_SPAN_KINDS",
    "TRACE_SPAN_STATUSES",
    "VALIDATION_SEVERITIES",
]

SCHEMA_VERSION = "1.0.0"

RUN_STAGE_STATUSES = ("open", "completed", "failed", "cancelled")
RECORD_TYPES = ("event", "metric", "span", "degraded")
COMPLETENESS_MARKERS = ("complete", "partial", "sampled", "absent", "unknown")
DEGRADATION_MARKERS = (
    "none",
    "partial_failure",
    "capture_gap",
    "import_loss",
    "compatibility_upgrade",
)
ORIGIN_MARKERS = (
    "explicit_capture",
    "assisted_capture",
    "wrapped_capture",
    "imported",
    "inferred",
    "replayed",
)
EVENT_LEVELS = ("debug", "info", "warning", "error", "critical")
METRIC_AGGREGATION_SCOPES = ("run", "stage", "operation", "step", "slice")
INTEGER_METRIC_VALUE_TYPES = (
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
)
FLOAT_METRIC_VALUE_TYPES = ("float", "float16", "float32", "float64")
METRIC_VALUE_TYPES = INTEGER_METRIC_VALUE_TYPES + FLOAT_METRIC_VALUE_TYPES
TRACE_SPAN_STATUSES = ("ok", "error", "cancelled", "timeout")
TRACE_SPAN_KINDS = ("operation", "internal", "io", "network", "process")
DEGRADED_CATEGORIES = ("capture", "store", "import", "compatibility", "verification", "recovery")
DEGRADED_SEVERITIES = ("warning", "error")
RELATION_TYPES = (
    "generated_from",
    "consumed_by",
    "produced_by",
    "packaged_from",
    "reported_by",
    "evaluated_on",
    "deployed_from",
    "used",
    "derived_from",
    "observed_in",
)
LINEAGE_ORIGIN_MARKERS = ("explicit", "imported", "inferred", "replayed")
ASSERTION_MODES = LINEAGE_ORIGIN_MARKERS
CONFIDENCE_MARKERS = ("high", "medium", "low", "unknown")
ARTIFACT_KINDS = (
    "dataset_snapshot",
    "feature_set",
    "checkpoint",
    "config_snapshot",
    "model_bundle",
    "report_bundle",
    "export_package",
    "evidence_bundle",
    "debug_bundle",
)
VALIDATION_SEVERITIES = ("error", "warning")

# Kinds whose shape is fixed (contract.md §3.3): kind -> allowed component counts.
CORE_REF_SHAPES: dict[str, tuple[int, ...]] = {
    "project": (1,),
    "run": (2,),
    "deployment": (2,),
    "stage": (3,),
    "batch": (4,),
    "sample": (4, 5),
    "op": (4, 5),
    "record": (3,),
    "artifact": (3,),
    "environment": (3,),
}
CORE_REF_KINDS = tuple(CORE_REF_SHAPES)
