"""Table of invalid inputs: exact error class, code, and a message naming the field."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from contexta.contract import (
    ArtifactManifest,
    BatchExecution,
    CorrelationRefs,
    DegradedPayload,
    DegradedRecord,
    DeploymentExecution,
    EnvironmentSnapshot,
    ExtensionFieldSet,
    LineageEdge,
    MetricPayload,
    MetricRecord,
    OperationContext,
    Project,
    Run,
    SampleObservation,
    StableRef,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    deserialize_metric_payload,
    deserialize_run,
)
from contexta.errors import ContractError, SerializationError, ValidationError

T0 = "2025-01-01T00:00:00Z"


def run(**kw: Any) -> Run:
    base: dict[str, Any] = {
        "run_ref": "run:p.r",
        "project_ref": "project:p",
        "name": "nightly",
        "status": "completed",
        "started_at": T0,
        "ended_at": "2025-01-01T01:00:00Z",
    }
    return Run(**{**base, **kw})


def stage(**kw: Any) -> StageExecution:
    base: dict[str, Any] = {
        "stage_execution_ref": "stage:p.r.fe",
        "run_ref": "run:p.r",
        "stage_name": "fe",
        "status": "open",
        "started_at": T0,
    }
    return StageExecution(**{**base, **kw})


def batch(**kw: Any) -> BatchExecution:
    base: dict[str, Any] = {
        "batch_execution_ref": "batch:p.r.fe.b0",
        "run_ref": "run:p.r",
        "stage_execution_ref": "stage:p.r.fe",
        "batch_name": "b0",
        "status": "open",
        "started_at": T0,
    }
    return BatchExecution(**{**base, **kw})


def envelope_kwargs(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "record_ref": "record:p.r.x1",
        "record_type": "metric",
        "recorded_at": T0,
        "observed_at": T0,
        "producer_ref": "sdk.python.local",
        "run_ref": "run:p.r",
        "stage_execution_ref": "stage:p.r.fe",
        "batch_execution_ref": "batch:p.r.fe.b0",
    }
    return {**base, **kw}


def envelope(**kw: Any) -> Any:
    from contexta.contract import RecordEnvelope

    return RecordEnvelope(**envelope_kwargs(**kw))


def metric(**kw: Any) -> MetricPayload:
    base: dict[str, Any] = {"metric_key": "val_loss", "value": 0.5, "value_type": "float64"}
    return MetricPayload(**{**base, **kw})


def span(**kw: Any) -> TraceSpanPayload:
    base: dict[str, Any] = {
        "span_id": "s1",
        "trace_id": "t1",
        "parent_span_id": None,
        "span_name": "load",
        "started_at": T0,
        "ended_at": "2025-01-01T00:00:01Z",
        "status": "ok",
        "span_kind": "io",
    }
    return TraceSpanPayload(**{**base, **kw})


def degraded(**kw: Any) -> DegradedPayload:
    base: dict[str, Any] = {
        "issue_key": "etl.null_overflow",
        "category": "verification",
        "severity": "warning",
        "summary": "column zeroed",
    }
    return DegradedPayload(**{**base, **kw})


def manifest(**kw: Any) -> ArtifactManifest:
    base: dict[str, Any] = {
        "artifact_ref": "artifact:p.r.model",
        "artifact_kind": "model_bundle",
        "created_at": T0,
        "producer_ref": "trainer",
        "run_ref": "run:p.r",
        "location_ref": "file:///tmp/model.bin",
    }
    return ArtifactManifest(**{**base, **kw})


def edge(**kw: Any) -> LineageEdge:
    base: dict[str, Any] = {
        "relation_ref": "relation:e1",
        "relation_type": "derived_from",
        "source_ref": "artifact:p.r.data",
        "target_ref": "artifact:p.r.model",
        "recorded_at": T0,
        "origin_marker": "explicit",
        "confidence_marker": "high",
    }
    return LineageEdge(**{**base, **kw})


Case = tuple[str, Callable[[], object], str, str]

CASES: list[Case] = [
    # --- ref grammar and shapes -----------------------------------------------------
    ("ref-no-colon", lambda: StableRef.parse("runp.r"), "stable_ref_invalid_text", "ref"),
    ("ref-two-colons", lambda: StableRef.parse("run:p:r"), "stable_ref_invalid_text", "ref"),
    ("ref-upper-kind", lambda: StableRef.parse("Run:p.r"), "stable_ref_invalid_kind", "ref"),
    ("ref-upper-value", lambda: run(run_ref="run:p.R1"), "stable_ref_invalid_value", "run_ref"),
    ("ref-double-sep", lambda: run(run_ref="run:p.a--b"), "stable_ref_invalid_value", "run_ref"),
    ("ref-empty-component", lambda: run(run_ref="run:p..r"), "stable_ref_invalid_value", "run_ref"),
    ("ref-slash", lambda: stage(run_ref="run:p/r"), "stable_ref_invalid_value", "run_ref"),
    ("ref-unicode", lambda: run(run_ref="run:p.réseau"), "stable_ref_invalid_value", "run_ref"),
    ("ref-too-long", lambda: run(run_ref="run:p." + "a" * 300), "stable_ref_too_long", "run_ref"),
    (
        "ref-component-64",
        lambda: run(run_ref="run:p." + "a" * 64),
        "stable_ref_invalid_value",
        "run_ref",
    ),
    ("ref-run-shape", lambda: run(run_ref="run:p"), "stable_ref_invalid_shape", "run_ref"),
    ("ref-not-str", lambda: run(run_ref=42), "stable_ref_invalid_text", "run_ref"),
    ("ref-wrong-kind", lambda: run(run_ref="stage:p.r.s"), "stable_ref_kind_mismatch", "run_ref"),
    (
        "project-wrong-kind",
        lambda: run(project_ref="run:p.r"),
        "stable_ref_kind_mismatch",
        "project_ref",
    ),
    # --- owner / prefix rules ---------------------------------------------------------
    (
        "run-other-project",
        lambda: run(project_ref="project:q"),
        "stable_ref_prefix_mismatch",
        "run_ref",
    ),
    (
        "stage-wrong-run",
        lambda: stage(run_ref="run:p.other"),
        "stable_ref_prefix_mismatch",
        "stage_execution_ref",
    ),
    (
        "stage-name-mismatch",
        lambda: stage(stage_name="train"),
        "stable_ref_prefix_mismatch",
        "stage_execution_ref",
    ),
    (
        "batch-other-stage",
        lambda: batch(stage_execution_ref="stage:p.r.train"),
        "stable_ref_prefix_mismatch",
        "batch_execution_ref",
    ),
    (
        "batch-stage-other-run",
        lambda: batch(run_ref="run:p.x"),
        "stable_ref_prefix_mismatch",
        "stage_execution_ref",
    ),
    (
        "envelope-record-other-run",
        lambda: envelope(record_ref="record:p.other.x1"),
        "stable_ref_prefix_mismatch",
        "record_ref",
    ),
    (
        "envelope-batch-without-stage",
        lambda: envelope(stage_execution_ref=None),
        "stable_ref_prefix_mismatch",
        "batch_execution_ref",
    ),
    (
        "envelope-stage-other-run",
        lambda: envelope(stage_execution_ref="stage:p.x.fe", batch_execution_ref=None),
        "stable_ref_prefix_mismatch",
        "stage_execution_ref",
    ),
    (
        "envelope-sample-not-under-batch",
        lambda: envelope(sample_observation_ref="sample:p.r.fe.s1"),
        "stable_ref_prefix_mismatch",
        "sample_observation_ref",
    ),
    (
        "envelope-op-without-stage",
        lambda: envelope(
            stage_execution_ref=None, batch_execution_ref=None, operation_context_ref="op:p.r.fe.o"
        ),
        "stable_ref_prefix_mismatch",
        "operation_context_ref",
    ),
    (
        "sample-owner-mismatch",
        lambda: SampleObservation(
            sample_observation_ref="sample:p.r.fe.s1",
            run_ref="run:p.r",
            stage_execution_ref="stage:p.r.fe",
            sample_name="s1",
            observed_at=T0,
            batch_execution_ref="batch:p.r.fe.b0",
        ),
        "stable_ref_prefix_mismatch",
        "sample_observation_ref",
    ),
    (
        "op-name-mismatch",
        lambda: OperationContext(
            operation_context_ref="op:p.r.fe.load",
            run_ref="run:p.r",
            stage_execution_ref="stage:p.r.fe",
            operation_name="save",
            observed_at=T0,
        ),
        "stable_ref_prefix_mismatch",
        "operation_context_ref",
    ),
    (
        "deployment-name-mismatch",
        lambda: DeploymentExecution(
            deployment_execution_ref="deployment:p.web",
            project_ref="project:p",
            deployment_name="api",
            status="open",
            started_at=T0,
        ),
        "stable_ref_prefix_mismatch",
        "deployment_execution_ref",
    ),
    (
        "artifact-other-run",
        lambda: manifest(artifact_ref="artifact:p.x.model"),
        "stable_ref_prefix_mismatch",
        "artifact_ref",
    ),
    (
        "environment-other-run",
        lambda: EnvironmentSnapshot(
            environment_snapshot_ref="environment:p.x.runtime",
            run_ref="run:p.r",
            captured_at=T0,
            python_version="3.11.7",
            platform="linux",
        ),
        "stable_ref_prefix_mismatch",
        "environment_snapshot_ref",
    ),
    # --- timestamps and ordering ------------------------------------------------------------
    (
        "ts-naive-string",
        lambda: run(started_at="2025-01-01T00:00:00"),
        "context_invalid_timestamp",
        "started_at",
    ),
    ("ts-epoch-int", lambda: run(started_at=1735689600), "context_invalid_timestamp", "started_at"),
    ("ts-empty", lambda: run(started_at=""), "context_invalid_timestamp", "started_at"),
    (
        "ts-feb-30",
        lambda: run(ended_at="2025-02-30T00:00:00Z"),
        "context_invalid_timestamp",
        "ended_at",
    ),
    (
        "ts-year-0",
        lambda: run(started_at="0000-01-01T00:00:00Z"),
        "context_invalid_timestamp",
        "started_at",
    ),
    (
        "ts-record-garbage",
        lambda: envelope(observed_at="yesterday"),
        "record_invalid_timestamp",
        "observed_at",
    ),
    (
        "ended-before-started-mixed-precision",
        lambda: run(started_at="2025-01-01T00:00:00.500000Z", ended_at="2025-01-01T00:00:00Z"),
        "context_invalid_time_order",
        "ended_at",
    ),
    (
        "ended-before-started-offset",
        lambda: run(started_at="2025-01-01T09:00:00+09:00", ended_at="2024-12-31T23:59:59Z"),
        "context_invalid_time_order",
        "ended_at",
    ),
    (
        "ended-before-started-both-offsets",
        lambda: stage(
            status="failed",
            started_at="2025-01-01T09:00:00.25+09:00",
            ended_at="2025-01-01T00:00:00.1-00:00",
        ),
        "context_invalid_time_order",
        "ended_at",
    ),
    (
        "recorded-before-observed",
        lambda: envelope(observed_at="2025-01-01T00:00:01Z"),
        "record_invalid_time_order",
        "recorded_at",
    ),
    (
        "span-ends-before-start",
        lambda: span(ended_at="2024-12-31T23:59:59.999999Z"),
        "record_invalid_time_order",
        "ended_at",
    ),
    ("open-with-ended-at", lambda: run(status="open"), "context_invalid_status", "ended_at"),
    (
        "completed-without-ended-at",
        lambda: run(ended_at=None),
        "context_invalid_status",
        "ended_at",
    ),
    # --- enumerations -----------------------------------------------------------------------
    ("status-unknown", lambda: run(status="done"), "context_invalid_status", "status"),
    ("status-upper", lambda: run(status="COMPLETED"), "context_invalid_status", "status"),
    (
        "record-type-unknown",
        lambda: envelope(record_type="log"),
        "record_invalid_marker",
        "record_type",
    ),
    (
        "completeness-unknown",
        lambda: envelope(completeness_marker="full"),
        "record_invalid_marker",
        "completeness_marker",
    ),
    (
        "event-level-unknown",
        lambda: StructuredEventPayload(event_key="e", level="fatal", message="m"),
        "record_invalid_marker",
        "level",
    ),
    (
        "degraded-category-unknown",
        lambda: degraded(category="disk"),
        "record_invalid_marker",
        "category",
    ),
    (
        "relation-type-unknown",
        lambda: edge(relation_type="parent_of"),
        "context_invalid_string",
        "relation_type",
    ),
    # --- metric values and steps ------------------------------------------------------------
    ("metric-bool", lambda: metric(value=True), "record_invalid_metric_value", "value"),
    ("metric-str", lambda: metric(value="0.5"), "record_invalid_metric_value", "value"),
    ("metric-none", lambda: metric(value=None), "record_invalid_metric_value", "value"),
    (
        "metric-decimal",
        lambda: metric(value=Decimal("0.5")),
        "record_invalid_metric_value",
        "value",
    ),
    ("metric-list", lambda: metric(value=[1.0]), "record_invalid_metric_value", "value"),
    (
        "metric-huge-int-float",
        lambda: metric(value=10**400),
        "record_invalid_metric_value",
        "value",
    ),
    (
        "metric-int64-overflow",
        lambda: metric(value=2**63, value_type="int64"),
        "record_invalid_metric_value",
        "value",
    ),
    (
        "metric-uint8-negative",
        lambda: metric(value=-1, value_type="uint8"),
        "record_invalid_metric_value",
        "value",
    ),
    (
        "metric-int-with-float",
        lambda: metric(value=0.5, value_type="int64"),
        "record_invalid_metric_value",
        "value",
    ),
    (
        "metric-nan-int-type",
        lambda: metric(value=math.nan, value_type="int"),
        "record_invalid_metric_value",
        "value",
    ),
    (
        "metric-unknown-type",
        lambda: metric(value_type="double"),
        "record_invalid_metric_value",
        "value_type",
    ),
    ("step-negative", lambda: metric(step=-1), "record_invalid_metric_step", "step"),
    ("step-too-big", lambda: metric(step=2**63), "record_invalid_metric_step", "step"),
    ("step-bool", lambda: metric(step=True), "record_invalid_metric_step", "step"),
    ("step-float", lambda: metric(step=1.0), "record_invalid_metric_step", "step"),
    # --- names, keys, tokens, text --------------------------------------------------------------
    ("name-newline", lambda: run(name="night\n1"), "context_invalid_name", "name"),
    (
        "name-nul",
        lambda: Project(project_ref="project:p", name="a\x00b", created_at=T0),
        "context_invalid_name",
        "name",
    ),
    ("name-blank", lambda: run(name="   "), "context_invalid_name", "name"),
    ("name-too-long", lambda: run(name="x" * 513), "context_invalid_name", "name"),
    ("name-lone-surrogate", lambda: run(name="a\ud800"), "context_invalid_name", "name"),
    (
        "stage-name-not-component",
        lambda: stage(stage_execution_ref="stage:p.r.fe", stage_name="Fe"),
        "context_invalid_name",
        "stage_name",
    ),
    ("key-double-dot", lambda: metric(metric_key="a..b"), "record_invalid_key", "metric_key"),
    ("key-digit-first", lambda: metric(metric_key="1abc"), "record_invalid_key", "metric_key"),
    ("key-at-sign", lambda: metric(metric_key="top@5"), "record_invalid_key", "metric_key"),
    ("key-space", lambda: metric(metric_key="a b"), "record_invalid_key", "metric_key"),
    ("key-trailing-dot", lambda: metric(metric_key="a."), "record_invalid_key", "metric_key"),
    ("key-double-slash", lambda: metric(metric_key="a//b"), "record_invalid_key", "metric_key"),
    ("key-colon", lambda: degraded(issue_key="a:b"), "record_invalid_key", "issue_key"),
    ("producer-empty", lambda: envelope(producer_ref=""), "record_invalid_key", "producer_ref"),
    (
        "message-blank",
        lambda: StructuredEventPayload(event_key="e", level="info", message=" \n"),
        "context_invalid_string",
        "message",
    ),
    (
        "summary-control-char",
        lambda: degraded(summary="bad\x07bell"),
        "context_invalid_string",
        "summary",
    ),
    (
        "token-upper",
        lambda: manifest(artifact_kind="Model"),
        "context_invalid_string",
        "artifact_kind",
    ),
    ("tags-non-str-value", lambda: run(tags={"a": 1}), "context_invalid_string", "tags.a"),
    ("tags-not-mapping", lambda: run(tags=["a"]), "context_invalid_string", "tags"),
    (
        "attributes-set",
        lambda: degraded(attributes={"s": {1, 2}}),
        "context_invalid_string",
        "attributes.s",
    ),
    (
        "attributes-bytes",
        lambda: degraded(attributes={"b": b"x"}),
        "context_invalid_string",
        "attributes.b",
    ),
    (
        "attributes-non-str-key",
        lambda: degraded(attributes={1: "x"}),
        "context_invalid_string",
        "attributes key",
    ),
    (
        "correlation-blank",
        lambda: CorrelationRefs(trace_id=""),
        "context_invalid_string",
        "trace_id",
    ),
    ("order-index-bool", lambda: stage(order_index=True), "context_invalid_string", "order_index"),
    (
        "order-index-negative",
        lambda: stage(order_index=-1),
        "context_invalid_string",
        "order_index",
    ),
    ("hash-upper", lambda: manifest(hash_value="A" * 64), "context_invalid_string", "hash_value"),
    (
        "git-commit-short",
        lambda: EnvironmentSnapshot(
            environment_snapshot_ref="environment:p.r.rt",
            run_ref="run:p.r",
            captured_at=T0,
            python_version="3.11",
            platform="linux",
            git_commit="abc",
        ),
        "context_invalid_string",
        "git_commit",
    ),
    # --- records, lineage, schema, extensions ----------------------------------------------------
    (
        "record-type-mismatch",
        lambda: MetricRecord(envelope=envelope(record_type="event"), payload=metric()),
        "record_type_mismatch",
        "envelope.record_type",
    ),
    (
        "record-payload-family",
        lambda: StructuredEventRecord(envelope=envelope(record_type="event"), payload=metric()),
        "record_type_mismatch",
        "payload",
    ),
    (
        "metric-record-absent",
        lambda: MetricRecord(envelope=envelope(completeness_marker="absent"), payload=metric()),
        "record_invalid_marker",
        "envelope.completeness_marker",
    ),
    (
        "degraded-record-none-marker",
        lambda: DegradedRecord(envelope=envelope(record_type="degraded"), payload=degraded()),
        "record_invalid_marker",
        "envelope.degradation_marker",
    ),
    (
        "lineage-self",
        lambda: edge(target_ref="artifact:p.r.data"),
        "lineage_self_relation",
        "target_ref",
    ),
    (
        "schema-version",
        lambda: run(schema_version="2.0.0"),
        "contract_unsupported_schema_version",
        "schema_version",
    ),
    (
        "extension-namespace",
        lambda: ExtensionFieldSet("Acme", {"a": 1}),
        "extension_invalid_namespace",
        "namespace",
    ),
    (
        "extension-duplicate",
        lambda: run(
            extensions=(
                ExtensionFieldSet("acme.x", {"a": 1}),
                ExtensionFieldSet("acme.x", {"b": 1}),
            )
        ),
        "extension_invalid_namespace",
        "extensions[1].namespace",
    ),
]


@pytest.mark.parametrize(
    ("factory", "code", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_input_raises_contract_error(
    factory: Callable[[], object], code: str, field: str
) -> None:
    with pytest.raises(ContractError) as info:
        factory()
    err = info.value
    assert isinstance(err, ValidationError)
    assert isinstance(err, ValueError)
    assert err.code == code, str(err)
    assert err.details is not None
    assert err.details["field"] == field
    assert set(err.details) >= {"field", "value", "allowed"}
    assert field.split(".")[-1].split("[")[0].split(" ")[0] in str(err)
    assert "allowed" in str(err)


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    ("started", "ended"),
    [
        ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00.500000Z"),  # string order would say <
        ("2025-01-01T09:00:00+09:00", "2025-01-01T00:00:00Z"),  # equal instants
        ("2025-01-01T09:00:00.000001+09:00", "2025-01-01T00:00:00.000001Z"),
        ("2025-01-01T00:00:00.1234567Z", "2025-01-01T00:00:00.123456Z"),  # truncated, equal
    ],
)
def test_valid_orderings_compare_instants(started: str, ended: str) -> None:
    assert run(started_at=started, ended_at=ended).ended_at.endswith("Z")


def test_deserialize_errors_are_serialization_errors_chained_to_validation() -> None:
    text = run().to_dict()
    text["status"] = "bogus"
    with pytest.raises(SerializationError) as info:
        deserialize_run(text)
    assert info.value.code == "deserialize_invalid_payload"
    assert isinstance(info.value.__cause__, ContractError)
    assert info.value.__cause__.code == "context_invalid_status"
    assert "status" in str(info.value)


def test_deserialize_rejects_unknown_fields() -> None:
    data = metric().to_dict()
    data["colour"] = "red"
    with pytest.raises(SerializationError) as info:
        deserialize_metric_payload(data)
    assert info.value.code == "deserialize_unknown_fields"
    assert "colour" in str(info.value)


@pytest.mark.parametrize("data", ["{", "[]", "null", "42", '"x"', b"\xff\xfe", {"metric_key": "m"}])
def test_deserialize_rejects_bad_documents(data: object) -> None:
    with pytest.raises(SerializationError) as info:
        deserialize_metric_payload(data)
    assert info.value.code == "deserialize_invalid_payload"


def test_non_finite_text_only_decoded_in_metric_value() -> None:
    data = metric().to_dict()
    data["unit"] = "NaN"
    assert deserialize_metric_payload(data).unit == "NaN"
    data["value"] = "-Infinity"
    assert deserialize_metric_payload(data).value == -math.inf
    bad = run().to_dict()
    bad["name"] = "NaN"
    assert deserialize_run(bad).name == "NaN"
