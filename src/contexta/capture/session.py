"""The capture runtime of one ``Contexta`` (§8): opens runs and deployments, tracks open
scopes, and resolves which scope ``ctx.metric(...)`` means (§8.3): the calling thread's or
task's own scope stack (a ``ContextVar``), else the single open run, else ``LifecycleError``.
"""

from __future__ import annotations

import collections
import contextvars
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contexta.capture import _environment, _liveness, _opening
from contexta.capture._checks import check_flag, check_mapping, check_metadata
from contexta.capture._clock import new_hex, utc_now_text
from contexta.capture._naming import check_scope_name, slug
from contexta.capture._records import ActiveContext
from contexta.capture._redaction import Redactor
from contexta.capture._scope import Scope
from contexta.capture._writer import CaptureWriter
from contexta.capture.results import BatchCaptureResult, CaptureResult
from contexta.capture.scopes import (
    BatchScope,
    DeploymentScope,
    OperationScope,
    RunScope,
    SampleScope,
    StageScope,
)
from contexta.contract import DeploymentExecution, Run, StableRef
from contexta.contract.refs import coerce_ref
from contexta.errors import ContextaError, LifecycleError

__all__ = ["ActiveContext", "ContextState", "RuntimeSession"]

logger = logging.getLogger(__name__)
_FIND = {"run": ("runs", "find_run"), "stage": ("stages", "find_stage_execution"),
         "batch": ("batches", "find_batch_execution"), "op": ("operations",
         "find_operation_context"), "sample": ("samples", "find_sample_observation")}
_NESTING_CODES = {"stage": "runtime_stage_already_active", "batch": "runtime_batch_already_active"}


@dataclass(frozen=True, slots=True)
class ContextState:
    """The open scopes visible to the caller, innermost of each kind (reference name kept)."""

    current: ActiveContext
    run_scope: RunScope | None = None
    deployment_scope: DeploymentScope | None = None
    stage_scope: StageScope | None = None
    batch_scope: BatchScope | None = None
    sample_scope: SampleScope | None = None
    operation_scope: OperationScope | None = None


class RuntimeSession:
    """Scope bookkeeping and store writing for one facade instance."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self._lock = threading.RLock()
        self._stack = self._new_stack()
        self._roots: list[Scope] = []
        self._writer: CaptureWriter | None = None
        self._redactor: Redactor | None = None
        self._facts: _environment.ProcessFacts | None = None
        # (project_name, ref) slugged, and (ref, name) known to be stored: run starts skip both.
        self._project_ref: tuple[str, StableRef] | None = None
        self._project_ok: tuple[StableRef, str] | None = None
        self._seen: collections.deque[BaseException] = collections.deque(maxlen=32)
        _liveness.register_session(self)

    # -- configuration-derived helpers ---------------------------------------------------
    @property
    def config(self) -> Any:
        return self.owner.config

    @property
    def producer_ref(self) -> str:
        return str(self.config.capture.producer_ref)

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between heartbeats: a quarter of the stale-run threshold (§8.8)."""
        return float(self.config.interpretation.diagnostics.stale_run_after_seconds) / 4.0

    @property
    def writer(self) -> CaptureWriter:
        if self._writer is None:
            with self._lock:
                if self._writer is None:
                    self._writer = CaptureWriter(self.owner)
        return self._writer

    @property
    def redactor(self) -> Redactor:
        if self._redactor is None:
            self._redactor = Redactor.from_config(self.config)
        return self._redactor

    def facts(self) -> _environment.ProcessFacts:
        """Process facts for run starts; packages and git are read once per process."""
        if self._facts is None:
            self._facts = _environment.collect(self.config)
        return self._facts

    def _new_stack(self) -> contextvars.ContextVar[tuple[Scope, ...]]:
        """A scope-stack variable with no value in any context yet."""
        return contextvars.ContextVar(f"contexta_scopes_{id(self):x}", default=())

    def _after_fork(self) -> None:
        """In a forked child: fresh locks and no open scopes (§8.3: children inherit none).

        The forking thread's context still holds the parent's stack; a new variable
        drops it everywhere, so the child can open its own run.
        """
        self._lock = threading.RLock()
        if self._writer is not None:
            self._writer._lock = threading.Lock()
        self._roots = []
        self._stack = self._new_stack()

    def _strict_default(self) -> bool:
        return bool(self.config.capture.dispatch_failure_mode == "raise")

    def _exists(self, kind: str, ref: StableRef) -> bool:
        repository, finder = _FIND[kind]
        try:
            return getattr(getattr(self.owner.metadata_store, repository), finder)(ref) is not None
        except ContextaError:
            return False

    def _first_sighting(self, exc: BaseException) -> bool:
        with self._lock:
            if any(seen is exc for seen in self._seen):
                return False
            self._seen.append(exc)
            return True

    # -- scope bookkeeping ---------------------------------------------------------------
    def _visible(self) -> list[Scope]:
        """Open scopes of the caller's stack that this process owns (never a parent's)."""
        pid = os.getpid()
        return [scope for scope in self._stack.get()
                if not scope._closed and scope._owner_pid == pid]

    def _check_nesting(self, kind: str, owner: Scope | None) -> None:
        for scope in self._visible():
            clash = None
            if kind == "run" and scope.kind == "run":
                clash = ("runtime_run_already_active", "a run is already open in this thread")
            elif kind in ("run", "deployment") and scope.kind == "deployment":
                clash = ("runtime_scope_conflict", f"a {kind} cannot open inside a deployment")
            elif scope._parent is owner and owner is not None and (
                    scope.kind == kind or {kind, scope.kind} == {"operation", "sample"}):
                code = _NESTING_CODES.get(kind, "runtime_scope_conflict")
                clash = (code, f"{owner.ref} already has an open {scope.kind} {scope.ref} "
                               "in this thread; close it first")
            if clash is not None:
                msg = f"cannot open {kind}: {clash[1]}"
                raise LifecycleError(msg, code=clash[0],
                                     details={"open_scope": scope.ref, "kind": kind})

    def _open_scope(self, scope: Scope) -> Scope:
        scope._write_open()
        parent = scope._parent
        with self._lock:
            if parent is None:
                self._roots.append(scope)
                _liveness.hold(self)
            else:
                parent._add_child(scope)
                run = scope.run_scope
                if run is not None:
                    with run._lock:
                        run._open_descendants.append(scope)
        self._stack.set((*self._visible(), scope))
        return scope

    def _scope_closed(self, scope: Scope) -> None:
        with self._lock:
            if scope in self._roots:
                self._roots.remove(scope)
                if not self._roots:
                    _liveness.release(self)
        run = scope.run_scope
        if run is not None and run is not scope:
            with run._lock:
                if scope in run._open_descendants:
                    run._open_descendants.remove(scope)
        stack = self._stack.get()
        if scope in stack:
            self._stack.set(tuple(item for item in stack if item is not scope and not item._closed))

    def open_runs(self) -> list[RunScope]:
        with self._lock:
            return [scope for scope in self._roots  # type: ignore[misc]
                    if scope.kind == "run" and not scope._closed]

    def _innermost(self) -> tuple[Scope | None, int]:
        """Innermost visible open scope, and how many runs are open (for the error)."""
        visible = self._visible()
        if visible:
            return visible[-1], 1
        pid = os.getpid()
        runs = [run for run in self.open_runs() if run._owner_pid == pid]
        if len(runs) != 1:
            return None, len(runs)
        run = runs[0]
        with run._lock:
            for scope in reversed(run._open_descendants):
                if not scope._closed:
                    return scope, 1
        return run, 1

    def _active(self) -> Scope:
        scope, open_runs = self._innermost()
        if scope is not None:
            return scope
        if open_runs == 0:
            message = "no run is open: use `with ctx.run(name) as run:` before capturing"
            raise LifecycleError(message, code="runtime_capture_requires_run")
        message = (f"{open_runs} runs are open in this process and none in this thread; call "
                   "the method on the scope object (run.metric(...), stage.event(...)) instead")
        raise LifecycleError(message, code="runtime_ambiguous_run",
                             details={"open_runs": open_runs})

    def _current(self, kind: str) -> Any:
        scope, _ = self._innermost()
        while scope is not None and scope.kind != kind:
            scope = scope._parent
        return scope

    # -- opening -------------------------------------------------------------------------
    def run(self, name: str, *, run_id: Any = None, tags: Mapping[str, str] | None = None,
            metadata: Mapping[str, Any] | None = None, code_revision: str | None = None,
            config_snapshot: Mapping[str, Any] | None = None, dataset_ref: Any = None,
            strict: bool | None = None) -> RunScope:
        """Open a run: project, run, environment and config snapshot are stored now."""
        self._check_nesting("run", None)
        strict = self._strict_default() if strict is None else check_flag(strict, "strict")
        data = check_metadata(metadata)
        project_ref = _opening.project_ref(self)
        run_ref = _opening.new_run_ref(self, name, run_id, project_ref)
        if self.redactor.mode != "off":
            data = dict(self.redactor.mapping(data) or {})
            tags = self.redactor.mapping(tags)  # type: ignore[assignment]
        snapshot = None
        if config_snapshot is not None and self.config.capture.capture_config_snapshot:
            snapshot = self.redactor.mapping(check_mapping(config_snapshot, "config_snapshot"))
            data["config_hash"] = _opening.config_hash(snapshot)  # type: ignore[arg-type]
        for key, value in (("code_revision", code_revision), ("dataset_ref", dataset_ref)):
            if value is not None:
                data[key] = str(value)
        capture = self.config.capture
        git = (_environment.git_state() if capture.capture_code_revision
               else _environment.GitState())
        data.update(_opening.owner_metadata(self, git))
        started = utc_now_text()
        model = Run(run_ref=run_ref, project_ref=project_ref, name=name, status="open",
                    started_at=started, tags=tags, metadata=data)
        scope = RunScope(self, None, ref=run_ref, name=name,
                         context=ActiveContext(project_ref=project_ref, run_ref=run_ref),
                         strict=strict, started_at=started, run_model=model,
                         code_revision=code_revision, config_snapshot=snapshot,
                         dataset_ref=None if dataset_ref is None else str(dataset_ref))
        _opening.open_root(self, scope, project_ref, str(run_ref), strict)  # the run is valid
        try:
            if capture.capture_environment_snapshot:
                _opening.write_environment(scope, git)
            _opening.write_config_snapshot(scope)
        except BaseException:
            scope.close(status="failed")
            raise
        scope._last_heartbeat = time.monotonic()
        _liveness.wake()
        return scope

    def deployment(self, name: str, *, deployment_ref: Any = None, run_ref: Any = None,
                   artifact_ref: Any = None, environment_snapshot_ref: Any = None,
                   metadata: Mapping[str, Any] | None = None,
                   strict: bool | None = None) -> DeploymentScope:
        """Open a deployment execution (``deployment:<project>.<slug>-<8 hex>``)."""
        self._check_nesting("deployment", None)
        strict = self._strict_default() if strict is None else check_flag(strict, "strict")
        data = check_metadata(metadata)
        if self.redactor.mode != "off":
            data = dict(self.redactor.mapping(data) or {})
        project_ref = _opening.project_ref(self)
        if deployment_ref is None:
            check_scope_name("deployment", name)
            room = min(63, 255 - len("deployment:") - len(project_ref.value) - 1) - 9
            ref = StableRef("deployment", f"{project_ref.value}.{slug(name, room)}-{new_hex(8)}")
        else:
            ref = coerce_ref(deployment_ref, "deployment_ref", "deployment")
        component = ref.components[-1]
        if isinstance(name, str) and name != component:
            data["display_name"] = name
        linked_run = None if run_ref is None else coerce_ref(run_ref, "run_ref", "run")
        started = utc_now_text()
        model = DeploymentExecution(
            deployment_execution_ref=ref, project_ref=project_ref, deployment_name=component,
            status="open", started_at=started, run_ref=linked_run, artifact_ref=artifact_ref,
            environment_snapshot_ref=environment_snapshot_ref, metadata=data)
        context = ActiveContext(project_ref=project_ref, run_ref=linked_run,
                                deployment_execution_ref=ref)
        scope = DeploymentScope(self, None, ref=ref, name=component, context=context,
                                strict=strict, started_at=started, model=model)
        return _opening.open_root(  # type: ignore[return-value]
            self, scope, project_ref, str(ref), strict)

    # -- current scopes (never raise, §5.4) ----------------------------------------------
    def current_run(self) -> RunScope | None:
        return self._current("run")  # type: ignore[no-any-return]

    def current_stage(self) -> StageScope | None:
        return self._current("stage")  # type: ignore[no-any-return]

    def current_batch(self) -> BatchScope | None:
        return self._current("batch")  # type: ignore[no-any-return]

    def current_operation(self) -> OperationScope | None:
        return self._current("operation")  # type: ignore[no-any-return]

    def current_sample(self) -> SampleScope | None:
        return self._current("sample")  # type: ignore[no-any-return]

    def current_deployment(self) -> DeploymentScope | None:
        return self._current("deployment")  # type: ignore[no-any-return]

    def current_state(self) -> ContextState:
        """Innermost open scope of each kind visible to the caller."""
        scope, _ = self._innermost()
        kinds: dict[str, Any] = {}
        walker = scope
        while walker is not None:
            kinds.setdefault(walker.kind, walker)
            walker = walker._parent
        current = scope._context if scope is not None else ActiveContext(
            project_ref=_opening.project_ref(self))
        return ContextState(current, *(kinds.get(kind) for kind in (
            "run", "deployment", "stage", "batch", "sample", "operation")))

    # -- facade capture calls: the innermost visible scope -------------------------------
    def event(self, key: str, message: str | None = None, *, level: str = "info",
              attributes: Mapping[str, Any] | None = None,
              tags: Mapping[str, str] | None = None) -> CaptureResult:
        return self._active().event(key, message, level=level, attributes=attributes, tags=tags)

    def metric(self, key: str, value: Any, *, step: int | None = None, unit: str | None = None,
               aggregation_scope: str = "step", tags: Mapping[str, str] | None = None,
               summary_basis: str | None = "raw_observation") -> CaptureResult:
        return self._active().metric(key, value, step=step, unit=unit,
                                     aggregation_scope=aggregation_scope, tags=tags,
                                     summary_basis=summary_basis)

    def span(self, name: str, **fields: Any) -> CaptureResult:
        return self._active().span(name, **fields)

    def degraded(self, issue_key: str, category: str, severity: str, summary: str,
                 **fields: Any) -> CaptureResult:
        return self._active().degraded(issue_key, category, severity, summary, **fields)

    def register_artifact(self, artifact_kind: str, path: Any, **fields: Any) -> CaptureResult:
        return self._active().register_artifact(artifact_kind, path, **fields)

    def emit_events(self, items: Sequence[Any]) -> BatchCaptureResult:
        return self._active().emit_events(items)

    def emit_metrics(self, items: Sequence[Any]) -> BatchCaptureResult:
        return self._active().emit_metrics(items)

    def emit_spans(self, items: Sequence[Any]) -> BatchCaptureResult:
        return self._active().emit_spans(items)

    def register_artifacts(self, items: Sequence[Any]) -> BatchCaptureResult:
        return self._active().register_artifacts(items)

    # -- shutdown ------------------------------------------------------------------------
    def close_open_scopes(self, status: str = "failed", *, reason: str = "context_closed"
                          ) -> int:
        """Close every scope this process opened and left open; returns how many roots."""
        pid = os.getpid()
        with self._lock:
            roots = [scope for scope in self._roots if scope._owner_pid == pid]
        for root in roots:
            if root._closed:
                continue
            try:
                if root._factory is not None:
                    open_refs = [root.ref] + [scope.ref for scope in getattr(
                        root, "_open_descendants", []) if not scope._closed]
                    root._writer.append(root._factory.event(
                        "contexta.scope-abandoned", f"scope left open; closed as {status}",
                        "warning", {"reason": reason, "open_scopes": open_refs}),
                        run_key=root._run_key, strict=False, factory=root._marker_factory)
                root.close(status=status)
            except Exception as exc:  # shutdown continues with the next root
                logger.warning("could not close abandoned scope %s: %s", root.ref, exc)
        return len(roots)

