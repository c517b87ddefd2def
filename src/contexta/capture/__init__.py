"""Capture: scopes that write what a pipeline does straight into the workspace stores.

``with ctx.run("nightly") as run:`` → ``run.stage("load")`` →
``stage.batch("2024-01-05")``; every scope offers ``metric``, ``event``,
``span``/``timed``, ``degraded`` and ``register_artifact`` plus batch forms.
Each call returns only after the stores took the data (contract §8). A store
that cannot be written never crashes the job: in the default ``outbox`` mode
the capture is spooled durably and ``contexta.recovery.replay_outbox`` moves
it in later. Extra sinks receive copies of what was stored.
"""

from __future__ import annotations

from contexta.capture.dispatch import (
    CaptureDispatcher,
    dispatch_batch_capture_result,
    dispatch_capture_result,
)
from contexta.capture.emissions import (
    ArtifactRegistrationEmission,
    EventEmission,
    MetricEmission,
    SpanEmission,
)
from contexta.capture.results import (
    BatchCaptureResult,
    CaptureResult,
    Delivery,
    DeliveryStatus,
    PayloadFamily,
    ResultStatus,
)
from contexta.capture.scopes import (
    BatchScope,
    DeploymentScope,
    OperationScope,
    RunScope,
    SampleScope,
    StageScope,
)
from contexta.capture.session import RuntimeSession as RuntimeSession  # facade wiring
from contexta.capture.sinks import (
    CompositeSink,
    InMemorySink,
    LocalJsonlSink,
    Sink,
    SinkCaptureReceipt,
    SinkCaptureRequest,
)

__all__ = [
    "EventEmission",
    "MetricEmission",
    "SpanEmission",
    "ArtifactRegistrationEmission",
    "CaptureResult",
    "BatchCaptureResult",
    "Delivery",
    "DeliveryStatus",
    "PayloadFamily",
    "ResultStatus",
    "CaptureDispatcher",
    "dispatch_capture_result",
    "dispatch_batch_capture_result",
    "Sink",
    "SinkCaptureRequest",
    "SinkCaptureReceipt",
    "CompositeSink",
    "InMemorySink",
    "LocalJsonlSink",
    "RunScope",
    "StageScope",
    "OperationScope",
    "BatchScope",
    "SampleScope",
    "DeploymentScope",
]
