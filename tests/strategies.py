"""Hypothesis strategies for contract refs, values and every contract model.

Shared by every test area (`from tests.strategies import ...`). Model strategies build
mutually consistent refs (a run under its project, a stage under its run, ...) so the
drawn models are valid; tests that want invalid input draw raw values instead.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from contexta.contract import (
    ARTIFACT_KINDS,
    ASSERTION_MODES,
    COMPLETENESS_MARKERS,
    CONFIDENCE_MARKERS,
    DEGRADATION_MARKERS,
    DEGRADED_CATEGORIES,
    DEGRADED_SEVERITIES,
    EVENT_LEVELS,
    LINEAGE_ORIGIN_MARKERS,
    METRIC_AGGREGATION_SCOPES,
    ORIGIN_MARKERS,
    RELATION_TYPES,
    TRACE_SPAN_KINDS,
    TRACE_SPAN_STATUSES,
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
    ProvenanceRecord,
    RecordEnvelope,
    Run,
    SampleObservation,
    StageExecution,
    StructuredEventPayload,
    StructuredEventRecord,
    TraceSpanPayload,
    TraceSpanRecord,
)
from contexta.contract.enums import FLOAT_METRIC_VALUE_TYPES
from contexta.contract.timestamps import normalize_timestamp

__all__ = [
    "MODEL_STRATEGIES",
    "artifact_manifests",
    "batch_executions",
    "components",
    "correlation_refs",
    "degraded_payloads",
    "degraded_records",
    "deployment_executions",
    "display_names",
    "environment_snapshots",
    "extension_field_sets",
    "extensions",
    "free_texts",
    "json_mappings",
    "json_values",
    "keys",
    "lineage_edges",
    "metric_payloads",
    "metric_records",
    "operation_contexts",
    "projects",
    "provenance_records",
    "record_envelopes",
    "ref_texts",
    "runs",
    "sample_observations",
    "stage_executions",
    "structured_event_payloads",
    "structured_event_records",
    "tag_maps",
    "timestamp_inputs",
    "trace_span_payloads",
    "trace_span_records",
]

settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- text -----------------------------------------------------------------------------

# Built from alphabets rather than ``from_regex``: several times faster to generate.
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_HEX = "0123456789abcdef"
_alnum = st.text(_LOWER + _DIGITS, min_size=1, max_size=8)


def _joined(first: st.SearchStrategy[str], rest: st.SearchStrategy[str], seps: str) -> Any:
    pairs = st.lists(st.tuples(st.sampled_from(seps), rest), max_size=3)
    return st.tuples(first, pairs).map(lambda t: t[0] + "".join(a + b for a, b in t[1]))


components = _joined(_alnum, _alnum, "-_")
tokens = st.tuples(st.sampled_from(_LOWER), st.text(_LOWER + _DIGITS + "_", max_size=12)).map(
    "".join
)
_KEY_CHARS = _LOWER + _LOWER.upper() + _DIGITS + "_-"
_key_heads = st.tuples(
    st.sampled_from(_LOWER + _LOWER.upper() + "_"), st.text(_KEY_CHARS, max_size=8)
).map("".join)
keys = _joined(_key_heads, st.text(_KEY_CHARS, min_size=1, max_size=6), "./")

_NO_CONTROL = st.characters(blacklist_categories=("Cc", "Cs"))
display_names = st.text(_NO_CONTROL, min_size=1, max_size=40).filter(lambda s: not s.isspace())
free_texts = st.text(
    st.one_of(_NO_CONTROL, st.sampled_from("\n\r\t")), min_size=1, max_size=60
).filter(lambda s: not s.isspace())
short_texts = st.text(_NO_CONTROL, min_size=1, max_size=30).filter(lambda s: not s.isspace())
_tag_keys = st.text(_NO_CONTROL, min_size=1, max_size=20).filter(lambda s: not s.isspace())
_tag_values = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
tag_maps = st.one_of(st.none(), st.dictionaries(_tag_keys, _tag_values, max_size=4))

# --- JSON -----------------------------------------------------------------------------

_json_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _json_text,
)
json_values = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(_json_text, inner, max_size=3),
    ),
    max_leaves=8,
)
json_mappings = st.one_of(st.none(), st.dictionaries(_json_text, json_values, max_size=4))

# --- timestamps -------------------------------------------------------------------------

_aware = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9998, 12, 30)).map(
    lambda d: d.replace(tzinfo=UTC)
)
_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@st.composite
def timestamp_inputs(draw: st.DrawFn) -> Any:
    """Any accepted spelling: canonical text, offset text, long fractions, datetimes."""
    instant = draw(_aware)
    form = draw(st.sampled_from(["canonical", "offset", "long", "datetime", "naive"]))
    if form == "canonical":
        return normalize_timestamp(instant)
    if form == "offset":
        local = instant.astimezone(draw(_offsets))
        return local.isoformat()
    if form == "long":
        return (
            instant.strftime("%Y-%m-%dT%H:%M:%S.%f")
            + draw(st.text(_DIGITS, min_size=1, max_size=3))
            + "Z"
        )
    if form == "naive":
        return instant.replace(tzinfo=None)
    return instant.astimezone(draw(_offsets))


def _ordered_pair(draw: st.DrawFn) -> tuple[Any, Any]:
    first = draw(timestamp_inputs())
    delta = draw(st.integers(min_value=0, max_value=10**12))
    start = datetime.fromisoformat(normalize_timestamp(first)[:-1]).replace(tzinfo=UTC)
    second = start + timedelta(microseconds=delta)
    if second.year > 9998:
        second = start
    return first, normalize_timestamp(second)


# --- refs and extensions ------------------------------------------------------------------


@st.composite
def ref_texts(draw: st.DrawFn) -> str:
    """Generic refs of non-core kinds (relation, provenance, anything else)."""
    kind = draw(st.sampled_from(["relation", "provenance", "dataset", "x_1"]))
    parts = draw(st.lists(components, min_size=1, max_size=4))
    return f"{kind}:{'.'.join(parts)}"


_namespaces = st.lists(tokens, min_size=2, max_size=3).map(".".join)
_field_names = tokens


@st.composite
def extension_field_sets(draw: st.DrawFn, namespace: str | None = None) -> ExtensionFieldSet:
    fields = draw(st.dictionaries(_field_names, json_values, min_size=1, max_size=3))
    readonly = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=2))
    return ExtensionFieldSet(namespace or draw(_namespaces), fields, tuple(readonly))


@st.composite
def extensions(draw: st.DrawFn) -> tuple[ExtensionFieldSet, ...]:
    names = draw(st.lists(_namespaces, unique=True, max_size=2))
    return tuple(draw(extension_field_sets(namespace=name)) for name in names)


# --- context models -----------------------------------------------------------------------

_statuses = st.sampled_from(["open", "completed", "failed", "cancelled"])
_counts = st.one_of(st.none(), st.integers(min_value=0, max_value=2**63 - 1))


@st.composite
def _scope(draw: st.DrawFn) -> dict[str, str]:
    p, r, s, b = (draw(components) for _ in range(4))
    return {
        "project": f"project:{p}",
        "run": f"run:{p}.{r}",
        "stage": f"stage:{p}.{r}.{s}",
        "batch": f"batch:{p}.{r}.{s}.{b}",
        "p": p,
        "rv": f"{p}.{r}",
        "sv": f"{p}.{r}.{s}",
        "bv": f"{p}.{r}.{s}.{b}",
        "stage_name": s,
        "batch_name": b,
    }


def _lifecycle(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(_statuses)
    started, ended = _ordered_pair(draw)
    return {
        "status": status,
        "started_at": started,
        "ended_at": None if status == "open" else ended,
    }


@st.composite
def projects(draw: st.DrawFn) -> Project:
    return Project(
        project_ref=f"project:{draw(components)}",
        name=draw(display_names),
        created_at=draw(timestamp_inputs()),
        description=draw(st.none() | free_texts),
        tags=draw(tag_maps),
        extensions=draw(extensions()),
    )


@st.composite
def runs(draw: st.DrawFn) -> Run:
    scope = draw(_scope())
    return Run(
        run_ref=scope["run"],
        project_ref=scope["project"],
        name=draw(display_names),
        description=draw(st.none() | free_texts),
        extensions=draw(extensions()),
        tags=draw(tag_maps),
        metadata=draw(json_mappings),
        **_lifecycle(draw),
    )


@st.composite
def deployment_executions(draw: st.DrawFn) -> DeploymentExecution:
    scope = draw(_scope())
    name = draw(components)
    return DeploymentExecution(
        deployment_execution_ref=f"deployment:{scope['p']}.{name}",
        project_ref=scope["project"],
        deployment_name=name,
        order_index=draw(_counts),
        run_ref=draw(st.none() | st.just(scope["run"])),
        artifact_ref=draw(st.none() | st.just(f"artifact:{scope['rv']}.model")),
        environment_snapshot_ref=draw(st.none() | st.just(f"environment:{scope['rv']}.runtime")),
        extensions=draw(extensions()),
        metadata=draw(json_mappings),
        **_lifecycle(draw),
    )


@st.composite
def stage_executions(draw: st.DrawFn) -> StageExecution:
    scope = draw(_scope())
    return StageExecution(
        stage_execution_ref=scope["stage"],
        run_ref=scope["run"],
        stage_name=scope["stage_name"],
        order_index=draw(_counts),
        extensions=draw(extensions()),
        metadata=draw(json_mappings),
        **_lifecycle(draw),
    )


@st.composite
def batch_executions(draw: st.DrawFn) -> BatchExecution:
    scope = draw(_scope())
    return BatchExecution(
        batch_execution_ref=scope["batch"],
        run_ref=scope["run"],
        stage_execution_ref=scope["stage"],
        batch_name=scope["batch_name"],
        order_index=draw(_counts),
        extensions=draw(extensions()),
        metadata=draw(json_mappings),
        **_lifecycle(draw),
    )


def _observed_child(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    scope = draw(_scope())
    name = draw(components)
    in_batch = draw(st.booleans())
    owner = scope["bv"] if in_batch else scope["sv"]
    return {
        "ref": f"{kind}:{owner}.{name}",
        "name": name,
        "run_ref": scope["run"],
        "stage_execution_ref": scope["stage"],
        "observed_at": draw(timestamp_inputs()),
        "batch_execution_ref": scope["batch"] if in_batch else None,
    }


@st.composite
def sample_observations(draw: st.DrawFn) -> SampleObservation:
    c = _observed_child(draw, "sample")
    return SampleObservation(
        sample_observation_ref=c["ref"],
        run_ref=c["run_ref"],
        stage_execution_ref=c["stage_execution_ref"],
        sample_name=c["name"],
        observed_at=c["observed_at"],
        batch_execution_ref=c["batch_execution_ref"],
        retention_class=draw(st.none() | tokens),
        redaction_profile=draw(st.none() | tokens),
        extensions=draw(extensions()),
        metadata=draw(json_mappings),
    )


@st.composite
def operation_contexts(draw: st.DrawFn) -> OperationContext:
    c = _observed_child(draw, "op")
    return OperationContext(
        operation_context_ref=c["ref"],
        run_ref=c["run_ref"],
        stage_execution_ref=c["stage_execution_ref"],
        operation_name=c["name"],
        observed_at=c["observed_at"],
        batch_execution_ref=c["batch_execution_ref"],
        extensions=draw(extensions()),
        metadata=draw(json_mappings),
    )


@st.composite
def environment_snapshots(draw: st.DrawFn) -> EnvironmentSnapshot:
    scope = draw(_scope())
    return EnvironmentSnapshot(
        environment_snapshot_ref=f"environment:{scope['rv']}.{draw(components)}",
        run_ref=scope["run"],
        captured_at=draw(timestamp_inputs()),
        python_version=draw(short_texts),
        platform=draw(short_texts),
        packages=draw(tag_maps),
        environment_variables=draw(tag_maps),
        extensions=draw(extensions()),
        hostname=draw(st.none() | short_texts),
        git_commit=draw(st.none() | st.text(_HEX, min_size=7, max_size=40)),
        git_dirty=draw(st.none() | st.booleans()),
    )


# --- records -----------------------------------------------------------------------------

correlation_refs = st.builds(
    CorrelationRefs, trace_id=st.none() | short_texts, session_id=st.none() | short_texts
)


@st.composite
def record_envelopes(draw: st.DrawFn, record_type: str | None = None) -> RecordEnvelope:
    scope = draw(_scope())
    depth = draw(st.integers(min_value=0, max_value=2))
    owner = {0: None, 1: scope["sv"], 2: scope["bv"]}[depth]
    rtype = record_type or draw(st.sampled_from(["event", "metric", "span", "degraded"]))
    observed, recorded = _ordered_pair(draw)
    completeness = draw(st.sampled_from(COMPLETENESS_MARKERS))
    degradation = draw(st.sampled_from(DEGRADATION_MARKERS))
    if rtype == "degraded" and degradation == "none":
        degradation = "capture_gap"
    if rtype != "degraded" and completeness == "absent":
        completeness = "partial"
    return RecordEnvelope(
        record_ref=f"record:{scope['rv']}.{draw(components)}",
        record_type=rtype,
        recorded_at=recorded,
        observed_at=observed,
        producer_ref=draw(keys),
        run_ref=scope["run"],
        deployment_execution_ref=draw(st.none() | st.just(f"deployment:{scope['p']}.dep")),
        stage_execution_ref=scope["stage"] if depth >= 1 else None,
        batch_execution_ref=scope["batch"] if depth == 2 else None,
        sample_observation_ref=(draw(st.none() | st.just(f"sample:{owner}.s1")) if owner else None),
        operation_context_ref=draw(st.none() | st.just(f"op:{owner}.op1")) if owner else None,
        correlation_refs=draw(correlation_refs),
        completeness_marker=completeness,
        degradation_marker=degradation,
        extensions=draw(extensions()),
    )


_subject_refs = st.one_of(
    st.none(), st.sampled_from(["run:p.r", "stage:p.r.s", "artifact:p.r.model", "project:p"])
)


@st.composite
def structured_event_payloads(draw: st.DrawFn) -> StructuredEventPayload:
    return StructuredEventPayload(
        event_key=draw(keys),
        level=draw(st.sampled_from(EVENT_LEVELS)),
        message=draw(free_texts),
        subject_ref=draw(_subject_refs),
        attributes=draw(json_mappings),
        origin_marker=draw(st.sampled_from(ORIGIN_MARKERS)),
        extensions=draw(extensions()),
    )


_INT_BOUNDS = {
    "int": (-(2**63), 2**63 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int8": (-128, 127),
    "uint64": (0, 2**64 - 1),
    "uint32": (0, 2**32 - 1),
    "uint16": (0, 2**16 - 1),
    "uint8": (0, 255),
}


@st.composite
def metric_values(draw: st.DrawFn) -> tuple[Any, str]:
    """A ``(value, value_type)`` pair that agrees (§3.7)."""
    if draw(st.booleans()):
        value_type = draw(st.sampled_from(FLOAT_METRIC_VALUE_TYPES))
        value = draw(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324]),
                st.integers(min_value=-(2**80), max_value=2**80),
            )
        )
        return value, value_type
    value_type = draw(st.sampled_from(sorted(_INT_BOUNDS)))
    low, high = _INT_BOUNDS[value_type]
    return draw(st.integers(min_value=low, max_value=high)), value_type


@st.composite
def metric_payloads(draw: st.DrawFn) -> MetricPayload:
    value, value_type = draw(metric_values())
    return MetricPayload(
        metric_key=draw(keys),
        value=value,
        value_type=value_type,
        unit=draw(st.none() | short_texts.filter(lambda s: len(s) <= 64)),
        aggregation_scope=draw(st.sampled_from(METRIC_AGGREGATION_SCOPES)),
        subject_ref=draw(_subject_refs),
        slice_ref=draw(st.none() | keys),
        tags=draw(tag_maps),
        summary_basis=draw(st.none() | tokens),
        extensions=draw(extensions()),
        step=draw(st.none() | st.integers(min_value=0, max_value=2**63 - 1)),
    )


@st.composite
def trace_span_payloads(draw: st.DrawFn) -> TraceSpanPayload:
    started, ended = _ordered_pair(draw)
    return TraceSpanPayload(
        span_id=draw(short_texts),
        trace_id=draw(short_texts),
        parent_span_id=draw(st.none() | short_texts),
        span_name=draw(free_texts),
        started_at=started,
        ended_at=ended,
        status=draw(st.sampled_from(TRACE_SPAN_STATUSES)),
        span_kind=draw(st.sampled_from(TRACE_SPAN_KINDS)),
        attributes=draw(json_mappings),
        linked_refs=tuple(draw(st.lists(ref_texts(), max_size=3))),
        extensions=draw(extensions()),
    )


@st.composite
def degraded_payloads(draw: st.DrawFn) -> DegradedPayload:
    return DegradedPayload(
        issue_key=draw(keys),
        category=draw(st.sampled_from(DEGRADED_CATEGORIES)),
        severity=draw(st.sampled_from(DEGRADED_SEVERITIES)),
        summary=draw(free_texts),
        subject_ref=draw(_subject_refs),
        origin_marker=draw(st.sampled_from(ORIGIN_MARKERS)),
        attributes=draw(json_mappings),
        extensions=draw(extensions()),
    )


def _record(cls: type, record_type: str, payloads: st.SearchStrategy[Any]) -> Any:
    return st.builds(
        cls,
        envelope=record_envelopes(record_type=record_type),
        payload=payloads,
        extensions=extensions(),
    )


structured_event_records = _record(StructuredEventRecord, "event", structured_event_payloads())
metric_records = _record(MetricRecord, "metric", metric_payloads())
trace_span_records = _record(TraceSpanRecord, "span", trace_span_payloads())
degraded_records = _record(DegradedRecord, "degraded", degraded_payloads())

# --- artifacts and lineage ------------------------------------------------------------------


@st.composite
def artifact_manifests(draw: st.DrawFn) -> ArtifactManifest:
    scope = draw(_scope())
    depth = draw(st.integers(min_value=0, max_value=2))
    owner = {0: None, 1: scope["sv"], 2: scope["bv"]}[depth]
    prefix = draw(st.sampled_from(["", "sha256:"]))
    digest = draw(st.none() | st.text(_HEX, min_size=64, max_size=64).map(prefix.__add__))
    return ArtifactManifest(
        artifact_ref=f"artifact:{scope['rv']}.{draw(components)}",
        artifact_kind=draw(st.sampled_from(ARTIFACT_KINDS) | tokens),
        created_at=draw(timestamp_inputs()),
        producer_ref=draw(keys),
        run_ref=scope["run"],
        location_ref=draw(short_texts),
        deployment_execution_ref=draw(st.none() | st.just(f"deployment:{scope['p']}.dep")),
        stage_execution_ref=scope["stage"] if depth >= 1 else None,
        batch_execution_ref=scope["batch"] if depth == 2 else None,
        sample_observation_ref=draw(st.none() | st.just(f"sample:{owner}.s")) if owner else None,
        operation_context_ref=draw(st.none() | st.just(f"op:{owner}.o")) if owner else None,
        hash_value=digest,
        size_bytes=draw(_counts),
        attributes=draw(json_mappings),
        extensions=draw(extensions()),
    )


@st.composite
def lineage_edges(draw: st.DrawFn) -> LineageEdge:
    source = draw(ref_texts() | st.sampled_from(["run:p.r", "artifact:p.r.data"]))
    target = draw(ref_texts().filter(lambda t: t != source))
    return LineageEdge(
        relation_ref=f"relation:{draw(components)}",
        relation_type=draw(st.sampled_from(RELATION_TYPES)),
        source_ref=source,
        target_ref=target,
        recorded_at=draw(timestamp_inputs()),
        origin_marker=draw(st.sampled_from(LINEAGE_ORIGIN_MARKERS)),
        confidence_marker=draw(st.sampled_from(CONFIDENCE_MARKERS)),
        operation_context_ref=draw(st.none() | st.just("op:p.r.s.load")),
        evidence_refs=tuple(draw(st.lists(ref_texts(), max_size=3))),
        extensions=draw(extensions()),
    )


@st.composite
def provenance_records(draw: st.DrawFn) -> ProvenanceRecord:
    return ProvenanceRecord(
        provenance_ref=f"provenance:{draw(components)}",
        relation_ref=f"relation:{draw(components)}",
        assertion_mode=draw(st.sampled_from(ASSERTION_MODES)),
        asserted_at=draw(timestamp_inputs()),
        formation_context_ref=draw(st.none() | ref_texts()),
        policy_ref=draw(st.none() | keys),
        evidence_bundle_ref=draw(st.none() | st.just("artifact:p.r.evidence")),
        extensions=draw(extensions()),
    )


MODEL_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "extension_field_set": extension_field_sets(),
    "correlation_refs": correlation_refs,
    "project": projects(),
    "run": runs(),
    "deployment_execution": deployment_executions(),
    "stage_execution": stage_executions(),
    "batch_execution": batch_executions(),
    "sample_observation": sample_observations(),
    "operation_context": operation_contexts(),
    "environment_snapshot": environment_snapshots(),
    "record_envelope": record_envelopes(),
    "structured_event_payload": structured_event_payloads(),
    "structured_event_record": structured_event_records,
    "metric_payload": metric_payloads(),
    "metric_record": metric_records,
    "trace_span_payload": trace_span_payloads(),
    "trace_span_record": trace_span_records,
    "degraded_payload": degraded_payloads(),
    "degraded_record": degraded_records,
    "artifact_manifest": artifact_manifests(),
    "lineage_edge": lineage_edges(),
    "provenance_record": provenance_records(),
}
"""Model strategies keyed by the ``deserialize_<name>`` they round-trip through."""
