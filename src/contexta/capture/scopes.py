"""The capture scopes: run → stage → batch, operations, samples and deployments (§8.1).

Each scope writes its contract model when it opens and again when it closes;
captured records carry the refs of the scope they were captured in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contexta.capture._checks import check_metadata
from contexta.capture._naming import TakenNames, check_scope_name, child_component
from contexta.capture._scope import Scope
from contexta.contract import (
    BatchExecution,
    DeploymentExecution,
    OperationContext,
    SampleObservation,
    StableRef,
    StageExecution,
)
from contexta.contract.refs import coerce_ref
from contexta.errors import ConflictError, ValidationError

if TYPE_CHECKING:
    from contexta.contract import Run

__all__ = [
    "BatchScope",
    "DeploymentScope",
    "OperationScope",
    "RunScope",
    "SampleScope",
    "StageScope",
]


def _child_ref(owner: Scope, kind: str, name: str, explicit: Any, field: str) -> StableRef:
    """Owner value + ``.`` + slug, suffixed to be unique; or the caller's checked ref."""
    owner_value = owner._ref.value
    taken = owner._taken.get(kind)
    if taken is None:
        taken = owner._taken[kind] = TakenNames()
    if explicit is None:
        return StableRef(kind, f"{owner_value}.{child_component(name, owner_value, kind, taken)}")
    ref = coerce_ref(explicit, field, kind)
    if ref.value.rsplit(".", 1)[0] != owner_value:
        message = f"{field} {ref.text!r} must be '{kind}:{owner_value}.<name>'"
        raise ValidationError(message, code="stable_ref_prefix_mismatch",
                              details={"field": field, "value": ref.text,
                                       "allowed": f"{kind}:{owner_value}.<name>"})
    if ref.components[-1] in taken or owner._session._exists(kind, ref):
        message = f"{field} {ref.text!r} already exists"
        raise ConflictError(message, code="metadata_ref_conflict",
                            details={"field": field, "value": ref.text})
    return ref


def _named_metadata(scope: Scope, name: str, component: str, metadata: Any) -> dict[str, Any]:
    data = check_metadata(metadata)
    if scope._redact and data:
        data = dict(scope._session.redactor.mapping(data) or {})
    if name != component:
        data["display_name"] = name
    return data


class _Container(Scope):
    """A scope that owns named children (run, stage, batch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._taken: dict[str, TakenNames] = {}
        self._counters: dict[str, int] = {}

    def _reserve(self, kind: str, name: Any, explicit: Any, field: str) -> tuple[StableRef, int]:
        check_scope_name(kind, name)
        with self._lock:
            self._check_open()
            ref = _child_ref(self, kind, name, explicit, field)
            self._taken[kind].add(ref.components[-1])
            order = self._counters.get(kind, 0)
            self._counters[kind] = order + 1
        return ref, order


class RunScope(_Container):
    """One execution of a pipeline; opened by ``ctx.run(name)``."""

    kind = "run"

    def __init__(self, *args: Any, run_model: Run, code_revision: str | None,
                 config_snapshot: Mapping[str, Any] | None, dataset_ref: str | None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._model = run_model
        self._code_revision = code_revision
        self._config_snapshot = config_snapshot
        self._config_snapshot_ref: str | None = None
        self._dataset_ref = dataset_ref
        self._artifact_keys: set[str] = TakenNames()
        self._open_descendants: list[Scope] = []
        self._last_heartbeat = 0.0

    @property
    def run_id(self) -> str:
        """The run's id component (``ref`` is the full ref)."""
        return str(self._ref.components[-1])

    @property
    def run_ref(self) -> str:
        return str(self._ref)

    @property
    def code_revision(self) -> str | None:
        return self._code_revision

    @property
    def config_snapshot(self) -> Mapping[str, Any] | None:
        return self._config_snapshot

    @property
    def config_snapshot_ref(self) -> str | None:
        return self._config_snapshot_ref

    @property
    def dataset_ref(self) -> str | None:
        return self._dataset_ref

    @property
    def tags(self) -> Mapping[str, str]:
        return self._model.tags

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._model.metadata

    @property
    def model(self) -> Run:
        """The ``Run`` as last written."""
        return self._model

    def _open_model(self) -> Any:
        return self._model

    def _close_model(self, status: str, ended_at: str) -> Any:
        self._model = dataclasses.replace(self._model, status=status, ended_at=ended_at)
        return self._model

    def _write_close(self, status: str, ended_at: str) -> None:
        super()._write_close(status, ended_at)
        self._writer.settle_run(self._run_key)

    def heartbeat(self, now: str) -> None:
        """Re-put the open run with ``contexta.heartbeat_at`` (a legal metadata update)."""
        with self._lock:
            if self._closed:
                return
            metadata = {**self._model.metadata, "contexta.heartbeat_at": now}
            model = dataclasses.replace(self._model, metadata=metadata)
            self._writer.put(model, run_key=self._run_key, strict=False, factory=self._factory)
            self._model = model

    def stage(self, name: str, *, stage_ref: Any = None,
              metadata: Mapping[str, Any] | None = None) -> StageScope:
        """Open a stage; ``order_index`` counts the stages opened before it."""
        return _open_execution(  # type: ignore[return-value]
            self, StageScope, name, stage_ref, "stage_ref", "stage_execution_ref", metadata
        )


def _open_execution(
    owner: Any,
    scope_class: type[Any],
    name: str,
    explicit_ref: Any,
    ref_argument: str,
    context_field: str,
    metadata: Mapping[str, Any] | None,
) -> Any:
    """Open a stage of a run or a batch of a stage: reserve the ref, then open the scope."""
    kind = scope_class.kind
    owner._session._check_nesting(kind, owner)
    ref, order = owner._reserve(kind, name, explicit_ref, ref_argument)
    context = dataclasses.replace(owner._context, **{context_field: ref})
    scope = scope_class(owner._session, owner, ref=ref, name=ref.components[-1],
                        context=context, strict=owner._strict)
    scope._order_index = order
    scope._metadata = _named_metadata(owner, name, ref.components[-1], metadata)
    return owner._session._open_scope(scope)


class _Execution(_Container):
    """Stage and batch: an execution with status, order and metadata."""

    _order_index: int = 0
    _metadata: dict[str, Any]
    _model: Any = None

    @property
    def order_index(self) -> int:
        return self._order_index

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._model.metadata if self._model is not None else self._metadata

    @property
    def stage_name(self) -> str:
        return str(self._context.stage_execution_ref.components[-1])  # type: ignore[union-attr]

    def _close_model(self, status: str, ended_at: str) -> Any:
        self._model = dataclasses.replace(self._model, status=status, ended_at=ended_at)
        return self._model

    def _open_leaf(self, cls: type[Scope], kind: str, name: str, explicit: Any, field: str,
                   metadata: Any, **extra: Any) -> Any:
        self._session._check_nesting(kind, self)
        ref, _ = self._reserve("op" if kind == "operation" else kind, name, explicit, field)
        context = dataclasses.replace(self._context, **{
            "operation": {"operation_context_ref": ref},
            "sample": {"sample_observation_ref": ref}}[kind])
        scope = cls(self._session, self, ref=ref, name=ref.components[-1], context=context,
                    strict=self._strict)
        scope._metadata = _named_metadata(self, name, ref.components[-1], metadata)
        scope._extra = extra
        return self._session._open_scope(scope)

    def operation(self, name: str, *, operation_ref: Any = None,
                  metadata: Mapping[str, Any] | None = None) -> OperationScope:
        """Open an operation; closing it stores a span covering it."""
        return self._open_leaf(OperationScope, "operation", name, operation_ref,
                               "operation_ref", metadata)  # type: ignore[no-any-return]

    def sample(self, name: str, *, sample_ref: Any = None, retention_class: str | None = None,
               redaction_profile: str | None = None,
               metadata: Mapping[str, Any] | None = None) -> SampleScope:
        """Record one sample observation and open a scope for what belongs to it."""
        return self._open_leaf(SampleScope, "sample", name, sample_ref, "sample_ref", metadata,
                               retention_class=retention_class,
                               redaction_profile=redaction_profile)  # type: ignore[no-any-return]

    def profile(self, frame: Any, *, name: str, **options: Any) -> Any:
        """Profile a dataframe and store the statistics (data-quality layer)."""
        from contexta.quality.capture import capture_profile

        return capture_profile(self, frame, name=name, **options)

    def expect(self, frame_or_profile: Any, **expectations: Any) -> Any:
        """Check a dataframe or profile against this stage's history (data-quality layer)."""
        from contexta.quality.capture import capture_expectation

        return capture_expectation(self, frame_or_profile, **expectations)


class StageScope(_Execution):
    """One stage of a run; opened by ``run.stage(name)``."""

    kind = "stage"

    def _open_model(self) -> Any:
        self._model = StageExecution(
            stage_execution_ref=self._ref, run_ref=self._context.run_ref,
            stage_name=self._name, status="open", started_at=self._started_at,
            order_index=self._order_index, metadata=self._metadata)
        return self._model

    def batch(self, name: str, *, batch_ref: Any = None,
              metadata: Mapping[str, Any] | None = None) -> BatchScope:
        """Open a batch of this stage; ``order_index`` counts earlier batches."""
        return _open_execution(  # type: ignore[return-value]
            self, BatchScope, name, batch_ref, "batch_ref", "batch_execution_ref", metadata
        )


class BatchScope(_Execution):
    """One batch of a stage; opened by ``stage.batch(name)``."""

    kind = "batch"

    def _open_model(self) -> Any:
        context = self._context
        self._model = BatchExecution(
            batch_execution_ref=self._ref, run_ref=context.run_ref,
            stage_execution_ref=context.stage_execution_ref, batch_name=self._name,
            status="open", started_at=self._started_at, order_index=self._order_index,
            metadata=self._metadata)
        return self._model


class _Leaf(Scope):
    _metadata: dict[str, Any]
    _extra: dict[str, Any]
    _model: Any = None

    @property
    def observed_at(self) -> str:
        return self._started_at

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._model.metadata if self._model is not None else self._metadata


class OperationScope(_Leaf):
    """An operation inside a stage or batch; its close stores a covering span."""

    kind = "operation"

    def _open_model(self) -> Any:
        context = self._context
        self._model = OperationContext(
            operation_context_ref=self._ref, run_ref=context.run_ref,
            stage_execution_ref=context.stage_execution_ref, operation_name=self._name,
            observed_at=self._started_at, batch_execution_ref=context.batch_execution_ref,
            metadata=self._metadata)
        return self._model

    def _write_close(self, status: str, ended_at: str) -> None:
        span_status = {"completed": "ok", "failed": "error", "cancelled": "cancelled"}[status]
        record = self._factory.span(  # type: ignore[union-attr]
            self._name, started_at=self._started_at, ended_at=ended_at, status=span_status,
            span_kind="operation", attributes=None, linked_refs=None, parent_span_id=None)
        self._writer.append(record, run_key=self._run_key, strict=self._strict,
                            factory=self._marker_factory)


class SampleScope(_Leaf):
    """One sample observation inside a stage or batch."""

    kind = "sample"

    def _open_model(self) -> Any:
        context = self._context
        self._model = SampleObservation(
            sample_observation_ref=self._ref, run_ref=context.run_ref,
            stage_execution_ref=context.stage_execution_ref, sample_name=self._name,
            observed_at=self._started_at, batch_execution_ref=context.batch_execution_ref,
            metadata=self._metadata, **self._extra)
        return self._model


class DeploymentScope(Scope):
    """A deployment execution; opened by ``ctx.deployment(name)``."""

    kind = "deployment"

    def __init__(self, *args: Any, model: DeploymentExecution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._model = model
        self._artifact_keys: set[str] = TakenNames()

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._model.metadata

    @property
    def run_ref(self) -> str | None:
        return None if self._model.run_ref is None else str(self._model.run_ref)

    @property
    def model(self) -> DeploymentExecution:
        return self._model

    def _open_model(self) -> Any:
        return self._model

    def _close_model(self, status: str, ended_at: str) -> Any:
        self._model = dataclasses.replace(self._model, status=status, ended_at=ended_at)
        return self._model

