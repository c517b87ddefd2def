"""Outbox kind names of the contract models capture writes."""

from __future__ import annotations

__all__ = ["kind_of"]

_KINDS = {
    "Project": "project",
    "Run": "run",
    "DeploymentExecution": "deployment",
    "StageExecution": "stage",
    "BatchExecution": "batch",
    "SampleObservation": "sample",
    "OperationContext": "operation",
    "EnvironmentSnapshot": "environment",
    "LineageEdge": "relation",
    "ProvenanceRecord": "provenance",
    "StructuredEventRecord": "event",
    "MetricRecord": "metric",
    "TraceSpanRecord": "span",
    "DegradedRecord": "degraded",
    "ArtifactManifest": "artifact",
}


def kind_of(payload: object) -> str | None:
    """The outbox kind of a contract model, or ``None`` for anything else."""
    return _KINDS.get(type(payload).__name__)
