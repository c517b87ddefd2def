"""The capture calls every scope offers: metric, event, span, degraded, artifacts (§8.4).

``metric()`` is the hot path: one type check, three model constructions and
one store append, with the scope's refs prepared once at scope open.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from contexta.capture._artifacts import PreparedArtifact, location_text, prepare_artifact
from contexta.capture._checks import check_mapping
from contexta.capture._clock import new_hex, utc_now_text
from contexta.capture._records import (
    coerce_metric_value,
    invalid_metric_value_error,
    metric_value_problem,
    metric_value_text,
)
from contexta.capture.emissions import (
    ArtifactRegistrationEmission,
    EventEmission,
    MetricEmission,
    SpanEmission,
    coerce_items,
)
from contexta.capture.results import BatchCaptureResult, CaptureResult, PayloadFamily
from contexta.contract.text import check_key
from contexta.errors import ValidationError

if TYPE_CHECKING:
    from contexta.capture._records import RecordFactory
    from contexta.capture._scope import Scope

__all__ = ["Emitter", "TimedSpan"]

_current_span: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "contexta_current_span", default=None)


class TimedSpan:
    """``with scope.timed("load") as span:`` stores one span covering the block.

    The span is written when the block ends, with status ``error`` (and the
    exception type) if it raised, ``cancelled`` on ``KeyboardInterrupt``.
    Spans opened inside the block take this one as their parent.
    """

    def __init__(self, scope: Scope, name: str, span_kind: str,
                 attributes: Mapping[str, Any] | None, linked_refs: Sequence[Any] | None) -> None:
        self._scope = scope
        self.name = name
        self.span_kind = span_kind
        self.attributes = dict(attributes or {})
        self.linked_refs = linked_refs
        self.span_id = new_hex(16)
        self.parent_span_id: str | None = None
        self.started_at: str | None = None
        self.result: CaptureResult | None = None
        self._token: contextvars.Token[str | None] | None = None

    def __enter__(self) -> TimedSpan:
        self.parent_span_id = _current_span.get()
        self._token = _current_span.set(self.span_id)
        self.started_at = utc_now_text()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if self._token is not None:
            try:
                _current_span.reset(self._token)
            except ValueError:  # exited in another context: nothing to restore
                pass
        status = "ok"
        if exc_type is not None:
            status = "cancelled" if issubclass(exc_type, KeyboardInterrupt) else "error"
            self.attributes.setdefault("exception_type", exc_type.__name__)
        self.result = self._scope._emit_span(
            self.name, started_at=self.started_at, ended_at=utc_now_text(), status=status,
            span_kind=self.span_kind, attributes=self.attributes,
            linked_refs=self.linked_refs, parent_span_id=self.parent_span_id,
            span_id=self.span_id, quiet=exc_type is not None)


class Emitter:
    """Mixin with the capture calls; relies on the scope's ``_require_factory`` & co."""

    __slots__ = ()

    # -- metrics -----------------------------------------------------------------------
    def metric(self: Scope, key: str, value: Any, *, step: int | None = None,
               unit: str | None = None, aggregation_scope: str = "step",
               tags: Mapping[str, str] | None = None,
               summary_basis: str | None = "raw_observation") -> CaptureResult:
        """Record one metric value (NaN and ±inf are stored exactly)."""
        factory = self._require_factory()
        coerced = coerce_metric_value(value)
        if coerced is None:
            return self._invalid_metric_value(key, value)
        if tags and self._redact:
            tags = self._session.redactor.mapping(tags)  # type: ignore[assignment]
        record = factory.metric(key, coerced[0], coerced[1], step=step, unit=unit,
                                aggregation_scope=aggregation_scope, tags=tags,
                                summary_basis=summary_basis)
        return self._writer.append(record, run_key=self._run_key, strict=self._strict,
                                   factory=self._marker_factory,
                                   body=factory.metric_body(record))

    def _invalid_metric_value(self: Scope, key: str, value: Any) -> CaptureResult:
        """Non-numeric or out-of-range value: strict raises, default leaves a marker."""
        check_key(key, "metric_key")  # a bad key is an error even when the value is bad too
        if self._strict:
            raise invalid_metric_value_error(key, value)
        marker = _invalid_value_marker(self._require_factory(), key, value, None)
        result = self._writer.append(marker, run_key=self._run_key, strict=False,
                                     factory=self._marker_factory,
                                     family=PayloadFamily.DEGRADATION)
        return _degraded(result, marker, "invalid_metric_value")

    def emit_metrics(self: Scope, items: Sequence[MetricEmission | Mapping[str, Any]]
                     ) -> BatchCaptureResult:
        """Validate every item, then store all of them in one atomic append."""
        factory = self._require_factory()
        records = []
        markers: set[int] = set()
        now = utc_now_text()  # one call, one instant (contract §8.4: observed = recorded = now)
        for index, item in enumerate(coerce_items(items, MetricEmission)):
            coerced = coerce_metric_value(item.value)
            if coerced is None:
                check_key(item.key, f"items[{index}].key")
                if self._strict:
                    raise invalid_metric_value_error(item.key, item.value)
                markers.add(index)
                records.append(_invalid_value_marker(factory, item.key, item.value, index))
                continue
            tags = self._session.redactor.mapping(item.tags) if item.tags else item.tags
            records.append(factory.metric(
                item.key, coerced[0], coerced[1], step=item.step, unit=item.unit,
                aggregation_scope=item.aggregation_scope, tags=tags,
                summary_basis=item.summary_basis, now=now))
        bodies = None if markers else [factory.metric_body(record) for record in records]
        return self._store_batch(records, markers, bodies)

    def _store_batch(self: Scope, records: list[Any], markers: set[int] | None = None,
                     bodies: list[str] | None = None) -> BatchCaptureResult:
        results = self._writer.append_many(records, run_key=self._run_key,
                                           strict=self._strict, factory=self._marker_factory,
                                           bodies=bodies)
        for index in markers or ():  # items stored as markers instead of metrics
            results[index] = _degraded(results[index], records[index], "invalid_metric_value")
        return BatchCaptureResult.from_results(PayloadFamily.RECORD, results)

    # -- events ------------------------------------------------------------------------
    def _event_record(self: Scope, key: str, message: Any, level: str,
                      attributes: Mapping[str, Any] | None, tags: Mapping[str, str] | None,
                      ) -> Any:
        if message is None:
            text = f"event {key!r} needs a message"
            raise ValidationError(text, code="context_invalid_string",
                                  details={"field": "message", "value": None,
                                           "allowed": "non-blank text"})
        if tags:
            base = {} if attributes is None else check_mapping(attributes, "attributes")
            attributes = {**base, "tags": check_mapping(tags, "tags")}
        if attributes and self._redact:
            attributes = self._session.redactor.mapping(attributes)
        return self._require_factory().event(key, message, level, attributes)

    def event(self: Scope, key: str, message: str | None = None, *, level: str = "info",
              attributes: Mapping[str, Any] | None = None,
              tags: Mapping[str, str] | None = None) -> CaptureResult:
        """Record a structured event."""
        record = self._event_record(key, message, level, attributes, tags)
        return self._writer.append(record, run_key=self._run_key, strict=self._strict,
                                   factory=self._marker_factory)

    def emit_events(self: Scope, items: Sequence[EventEmission | Mapping[str, Any]]
                    ) -> BatchCaptureResult:
        records = [self._event_record(item.key, item.message, item.level, item.attributes,
                                      item.tags)
                   for item in coerce_items(items, EventEmission)]
        return self._store_batch(records)

    # -- spans -------------------------------------------------------------------------
    def span(self: Scope, name: str, *, started_at: Any = None, ended_at: Any = None,
             status: str = "ok", span_kind: str = "operation",
             attributes: Mapping[str, Any] | None = None,
             linked_refs: Sequence[Any] | None = None,
             parent_span_id: str | None = None) -> CaptureResult:
        """Record a finished span; to time a block use :meth:`timed` instead."""
        return self._emit_span(name, started_at=started_at, ended_at=ended_at, status=status,
                               span_kind=span_kind, attributes=attributes,
                               linked_refs=linked_refs, parent_span_id=parent_span_id)

    def timed(self: Scope, name: str, *, span_kind: str = "operation",
              attributes: Mapping[str, Any] | None = None,
              linked_refs: Sequence[Any] | None = None) -> TimedSpan:
        """Context manager storing a span that covers the ``with`` block."""
        self._require_factory()
        return TimedSpan(self, name, span_kind, attributes, linked_refs)

    def _span_record(self: Scope, name: str, *, started_at: Any, ended_at: Any, status: str,
                     span_kind: str, attributes: Mapping[str, Any] | None,
                     linked_refs: Sequence[Any] | None, parent_span_id: str | None,
                     span_id: str | None = None) -> Any:
        if started_at is None and ended_at is not None:
            started_at = ended_at
        if parent_span_id is None:
            parent_span_id = _current_span.get()
        if attributes and self._redact:
            attributes = self._session.redactor.mapping(attributes)
        return self._require_factory().span(
            name, started_at=started_at, ended_at=ended_at, status=status,
            span_kind=span_kind, attributes=attributes, linked_refs=linked_refs,
            parent_span_id=parent_span_id, span_id=span_id)

    def _emit_span(self: Scope, name: str, *, quiet: bool = False, **fields: Any
                   ) -> CaptureResult | None:
        try:
            record = self._span_record(name, **fields)
            return self._writer.append(record, run_key=self._run_key, strict=self._strict,
                                       factory=self._marker_factory)
        except Exception:
            if not quiet:
                raise
            self._log_lost("span", name)  # never mask the user's exception
            return None

    def emit_spans(self: Scope, items: Sequence[SpanEmission | Mapping[str, Any]]
                   ) -> BatchCaptureResult:
        records = [self._span_record(item.name, started_at=item.started_at,
                                     ended_at=item.ended_at, status=item.status,
                                     span_kind=item.span_kind, attributes=item.attributes,
                                     linked_refs=item.linked_refs,
                                     parent_span_id=item.parent_span_id)
                   for item in coerce_items(items, SpanEmission)]
        return self._store_batch(records)

    # -- degraded markers --------------------------------------------------------------
    def degraded(self: Scope, issue_key: str, category: str, severity: str, summary: str, *,
                 attributes: Mapping[str, Any] | None = None, subject_ref: Any = None,
                 degradation_marker: str = "partial_failure") -> CaptureResult:
        """Record that something went wrong without stopping the job (a ``DegradedRecord``)."""
        if attributes and self._redact:
            attributes = self._session.redactor.mapping(attributes)
        record = self._require_factory().degraded(
            issue_key, category, severity, summary, attributes=attributes,
            subject_ref=subject_ref, degradation_marker=degradation_marker)
        return self._writer.append(record, run_key=self._run_key, strict=self._strict,
                                   factory=self._marker_factory)

    # -- artifacts ---------------------------------------------------------------------
    def _prepare(self: Scope, emission: ArtifactRegistrationEmission) -> PreparedArtifact:
        attributes = emission.attributes
        if attributes and self._redact:
            attributes = self._session.redactor.mapping(attributes)
        run = self._run_scope_for_artifacts()
        return prepare_artifact(
            emission, self._context, producer_ref=self._session.producer_ref,
            taken=run._artifact_keys, lock=run._lock, attributes=attributes)

    def _store_artifact(self: Scope, prepared: PreparedArtifact) -> CaptureResult:
        shown = location_text(prepared.source)
        if prepared.manifest is None:
            marker = self._require_factory().degraded(
                "capture.artifact_missing", "capture", "warning",
                f"artifact file {shown} was missing at registration",
                attributes={"path": shown,
                            "artifact_kind": prepared.emission.artifact_kind},
                degradation_marker="capture_gap")
            result = self._writer.append(marker, run_key=self._run_key, strict=self._strict,
                                         factory=self._marker_factory,
                                         family=PayloadFamily.DEGRADATION)
            return _degraded(result, marker, "artifact_missing", PayloadFamily.ARTIFACT)
        return self._writer.put_artifact(
            prepared.manifest, prepared.source, prepared.edge, run_key=self._run_key,
            strict=self._strict, factory=self._marker_factory,
            source_name=os.path.basename(shown))

    def register_artifact(self: Scope, artifact_kind: str, path: Any, *,
                          artifact_ref: Any = None, attributes: Mapping[str, Any] | None = None,
                          compute_hash: bool = True, allow_missing: bool = False
                          ) -> CaptureResult:
        """Ingest a file into the artifact store, with hash, size and a lineage edge."""
        self._require_factory()
        emission = ArtifactRegistrationEmission(artifact_kind, path, artifact_ref, attributes,
                                                compute_hash, allow_missing)
        return self._store_artifact(self._prepare(emission))

    def register_artifacts(self: Scope,
                           items: Sequence[ArtifactRegistrationEmission | Mapping[str, Any]]
                           ) -> BatchCaptureResult:
        """Check every file first, then ingest them one by one."""
        self._require_factory()
        prepared = [self._prepare(item)
                    for item in coerce_items(items, ArtifactRegistrationEmission)]
        results = [self._store_artifact(item) for item in prepared]
        return BatchCaptureResult.from_results(PayloadFamily.ARTIFACT, results)


def _invalid_value_marker(factory: RecordFactory, key: str, value: Any,
                          index: int | None) -> Any:
    """The ``capture.invalid_metric_value`` marker kept in place of a refused value.

    The value is kept as text in the attributes, so nothing is lost silently.
    """
    attributes: dict[str, Any] = {"metric": str(key)[:255],
                                  "python_type": type(value).__name__,
                                  "value": metric_value_text(value)}
    if index is not None:
        attributes["index"] = index
    return factory.degraded(
        "capture.invalid_metric_value", "capture", "warning",
        f"metric {key} received {metric_value_problem(value)}; not stored",
        attributes=attributes, degradation_marker="capture_gap")


def _degraded(result: CaptureResult, marker: Any, reason: str,
              family: PayloadFamily | None = None) -> CaptureResult:
    """``result`` of storing ``marker`` in place of what was asked, as ``DEGRADED``."""
    fields = {name: getattr(result, name) for name in CaptureResult.__dataclass_fields__}
    fields.update(status="DEGRADED", degradation_notes=(), degradation_emitted=True,
                  degradation_payload=marker,
                  degradation_reasons=(reason, *result.degradation_reasons))
    if family is not None:
        fields["family"] = family
    return CaptureResult(**fields)
