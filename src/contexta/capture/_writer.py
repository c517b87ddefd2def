"""Writes captured models into the workspace stores, or the outbox when they fail (§8.5).

Store failures (``StoreAccessError``, ``ReadOnlyStoreError``, and a missing
parent whose own write was spooled) are absorbed in ``outbox`` mode: the
model is spooled durably, the result is ``DEGRADED`` with
``recovered_to_outbox=True``, and one ``capture.delivery_degraded`` marker
per outage is written into the run as soon as the store takes writes again.
In ``raise`` mode, or for a strict scope, they become ``CaptureError``.
Anything else (a conflict, invalid data) is a real error and propagates.

The outbox itself falls back to a directory outside the workspace when its
own file system is the one that is full or read-only (see
:mod:`contexta.recovery.outbox`), so run and stage closes are spooled too and
replay can complete the run. Only when that fallback fails as well is the
capture lost; even then the default mode does not raise into the pipeline (the
promise of ``"outbox"`` mode is that storage trouble never crashes the job):
the loss is logged at ERROR with a running count and the call returns a
``FAILURE`` result with ``error_code="capture_spool_failed"``, so nothing is
dropped silently.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from contexta.capture._artifacts import hash_file
from contexta.capture._clock import new_hex
from contexta.capture._kinds import kind_of
from contexta.capture._outages import OutageLedger
from contexta.capture._records import RecordFactory
from contexta.capture.dispatch import CaptureDispatcher
from contexta.capture.results import (
    CaptureResult,
    Delivery,
    DeliveryStatus,
    FailureInfo,
    PayloadFamily,
    ResultStatus,
    stored_result,
)
from contexta.contract import to_payload
from contexta.errors import (
    CaptureError,
    ContextaError,
    NotFoundError,
    ReadOnlyStoreError,
    StoreAccessError,
)
from contexta.recovery.outbox import CONTEXT_KINDS, Outbox

__all__ = ["CaptureWriter"]

logger = logging.getLogger(__name__)

_OK = {family: Delivery("workspace", family, DeliveryStatus.SUCCESS) for family in PayloadFamily}
_OK_TUPLE = {family: (delivery,) for family, delivery in _OK.items()}


class CaptureWriter:
    """The single path from capture to the stores, shared by every scope of a session."""

    def __init__(self, owner: Any) -> None:
        self._owner = owner  # the facade: config, sinks and the three stores
        config = owner.config
        capture = config.capture
        self.outbox_mode = capture.dispatch_failure_mode == "outbox"
        self.write_markers = bool(capture.write_degraded_marker_on_partial_failure)
        self.ingest_mode = config.artifacts.default_ingest_mode
        self._chunk_size = int(config.artifacts.chunk_size_bytes)
        self.outbox = Outbox(config.recovery.outbox_root,
                             fsync=config.records.durability_mode == "fsync")
        sinks = tuple(getattr(owner, "sinks", ()) or ())
        self.dispatcher = CaptureDispatcher(config, sinks, outbox=self.outbox) if sinks else None
        self._lock = threading.Lock()
        self._outages = OutageLedger()
        self._spooled_runs: set[str] = set()
        self._lost_count = 0  # captures neither stored nor spooled (both outboxes failed)

    # -- store calls -------------------------------------------------------------------
    def put(self, model: Any, *, run_key: str | None, strict: bool,
            factory: RecordFactory | None = None) -> CaptureResult:
        """Put a context model (project, run, stage, …) through its repository."""
        kind = kind_of(model)
        _, repository, method = CONTEXT_KINDS[kind]  # type: ignore[index]
        try:
            getattr(getattr(self._owner.metadata_store, repository), method)(model)
        except Exception as exc:
            spooled = self._absorb(exc, [model], PayloadFamily.CONTEXT, run_key, strict, factory)
            return self._dispatched([spooled], run_key, factory)[0]
        return self._stored(stored_result(model, PayloadFamily.CONTEXT,
                                          _OK_TUPLE[PayloadFamily.CONTEXT]), run_key, factory)

    def append(self, record: Any, *, run_key: str, strict: bool, factory: RecordFactory | None,
               family: PayloadFamily = PayloadFamily.RECORD,
               body: str | None = None) -> CaptureResult:
        """Append one record (``body``: its ``to_json``, if made); the hot path of ``metric()``."""
        try:
            self._owner.record_store.append_minted(record, body)
        except Exception as exc:
            spooled = self._absorb(exc, [record], family, run_key, strict, factory)
            return self._dispatched([spooled], run_key, factory)[0]
        result = stored_result(record, family, _OK_TUPLE[family])
        if self._outages.pending or self.dispatcher is not None:
            return self._stored(result, run_key, factory)
        return result

    def append_many(self, records: Sequence[Any], *, run_key: str, strict: bool,
                    factory: RecordFactory | None,
                    bodies: Sequence[str] | None = None) -> list[CaptureResult]:
        """Append a validated batch as one atomic unit."""
        if not records:
            return []
        try:
            self._owner.record_store.append_many_minted(records, bodies)
        except Exception as exc:
            spooled = self._absorb(exc, list(records), PayloadFamily.RECORD, run_key, strict,
                                   factory, many=True)
            if spooled.failed:  # nothing spooled: one FAILURE per record
                return [CaptureResult(**{**_fields(spooled), "payload": record,
                                         "value": record}) for record in records]
            return self._dispatched([
                CaptureResult(**{**_fields(spooled), "payload": record, "value": record,
                                 "replay_refs": (ref,)})
                for record, ref in zip(records, spooled.replay_refs, strict=True)
            ], run_key, factory)
        if self._outages.pending:
            self._settle(run_key)
        ok = _OK_TUPLE[PayloadFamily.RECORD]
        return self._dispatched([stored_result(record, PayloadFamily.RECORD, ok)
                                 for record in records], run_key, factory)

    def put_artifact(self, manifest: Any, source: str, edge: Any, *, run_key: str,
                     strict: bool, factory: RecordFactory | None,
                     source_name: str | None, mode: str | None = None) -> CaptureResult:
        """Ingest an artifact body, then its ``produced_by`` lineage edge.

        A manifest without ``hash_value`` gets the digest and size the store computes
        while copying the body in, so the file is read once (hash and copy together).
        """
        store = self._owner.artifact_store
        mode = mode or self.ingest_mode
        try:
            if manifest.hash_value is not None:
                store.put_artifact(manifest, source, mode=mode, source_name=source_name)
            else:
                staged = store.stage_body(source)
                try:
                    manifest = dataclasses.replace(manifest, hash_value=staged.digest,
                                                   size_bytes=staged.size)
                except BaseException:
                    store.discard_staged(staged)
                    raise
                store.bind_staged(manifest, staged, mode=mode, source_name=source_name)
        except Exception as exc:
            if not self._can_absorb(exc, run_key, strict):
                self._reraise(exc, manifest)
            if manifest.hash_value is None:  # the store never read it: hash for the outbox
                try:
                    digest, size = hash_file(source, self._chunk_size)
                except OSError:
                    self._reraise(exc, manifest)
                manifest = dataclasses.replace(manifest, hash_value=digest, size_bytes=size)
            try:
                refs = [self._spool(manifest, PayloadFamily.ARTIFACT, exc, body=source,
                                    source_name=source_name)]
            except CaptureError as spool_error:
                return self._lost(exc, spool_error, manifest, PayloadFamily.ARTIFACT,
                                  1 + (edge is not None))
            if edge is not None:
                try:
                    refs.append(self._spool(edge, PayloadFamily.CONTEXT, exc))
                except CaptureError as spool_error:  # the body is spooled; its edge is lost
                    self._lost(exc, spool_error, edge, PayloadFamily.CONTEXT, 1)
            spooled = self._spooled(manifest, PayloadFamily.ARTIFACT, exc, refs, run_key,
                                    factory)
            return self._dispatched([spooled], run_key, factory)[0]
        if edge is not None:
            lineage = self.put(edge, run_key=run_key, strict=strict, factory=factory)
            if lineage.recovered_to_outbox:
                return self._dispatched([CaptureResult(**{
                    **_fields(lineage), "payload": manifest, "value": manifest,
                    "family": PayloadFamily.ARTIFACT, "deliveries": lineage.deliveries[:1],
                    "degradation_notes": ()})], run_key, factory)[0]
        return self._stored(stored_result(manifest, PayloadFamily.ARTIFACT,
                                          _OK_TUPLE[PayloadFamily.ARTIFACT]), run_key, factory)

    # -- failure handling --------------------------------------------------------------
    def _can_absorb(self, exc: BaseException, run_key: str | None, strict: bool) -> bool:
        if strict or not self.outbox_mode:
            return False
        if isinstance(exc, StoreAccessError | ReadOnlyStoreError):
            return True
        if isinstance(exc, NotFoundError):  # its parent is waiting in the outbox
            return run_key is not None and run_key in self._spooled_runs
        return isinstance(exc, OSError) and not isinstance(exc, ContextaError)

    def _error(self, exc: BaseException, model: Any) -> BaseException:
        """Store unavailability becomes ``CaptureError``; other errors propagate unchanged."""
        unavailable = isinstance(exc, StoreAccessError | ReadOnlyStoreError) or (
            isinstance(exc, OSError) and not isinstance(exc, ContextaError))
        if not unavailable:
            return exc
        ref = _ref_text(model)
        message = f"capture of {kind_of(model)} {ref} could not be stored: {exc}"
        return CaptureError(message, code="capture_dispatch_failed",
                            details={"ref": ref, "cause_code": getattr(exc, "code", None)},
                            cause=exc)

    def _reraise(self, exc: Exception, model: Any) -> NoReturn:
        error = self._error(exc, model)
        if error is exc:
            raise exc
        raise error from exc

    def _absorb(self, exc: Exception, models: list[Any], family: PayloadFamily,
                run_key: str | None, strict: bool, factory: RecordFactory | None, *,
                many: bool = False) -> CaptureResult:
        if not self._can_absorb(exc, run_key, strict):
            self._reraise(exc, models[0])
        try:
            refs = self.outbox_many(models, family, exc) if many else [
                self._spool(models[0], family, exc)]
        except CaptureError as spool_error:
            return self._lost(exc, spool_error, models[0], family, len(models))
        return self._spooled(models[0], family, exc, refs, run_key, factory)

    def _lost(self, exc: BaseException, spool_error: CaptureError, model: Any,
              family: PayloadFamily, count: int) -> CaptureResult:
        """Neither the store nor either outbox took it: log at ERROR, return ``FAILURE``.

        Only reached in non-strict ``outbox`` mode, which promises not to raise into
        the pipeline for storage trouble; the ERROR log (with the running count) and
        the ``FAILURE`` result keep the loss from being silent.
        """
        with self._lock:
            self._lost_count += count
            total = self._lost_count
        logger.error("%d capture(s) lost (%d so far in this session): the store failed (%s) "
                     "and spooling failed too: %s", count, total, _describe(exc),
                     spool_error.message)
        message = f"capture of {kind_of(model)} {_ref_text(model)} was lost: {spool_error}"
        return CaptureResult(
            ResultStatus.FAILURE, payload=model, family=family, applied=False,
            deliveries=(Delivery("workspace", family, DeliveryStatus.FAILURE, message),),
            failure=FailureInfo("capture_spool_failed", message, True, "CaptureError",
                                {"outbox_root": spool_error.details.get("outbox_root"),
                                 "fallback_outbox_root":
                                     spool_error.details.get("fallback_outbox_root")}),
            error_code="capture_spool_failed", error_message=message)

    def _spool(self, model: Any, family: PayloadFamily, exc: BaseException, *,
               body: str | None = None, source_name: str | None = None) -> str:
        extra = {"source_name": source_name} if source_name else None
        return self.outbox.spool(replay_ref=f"replay:{new_hex(20)}", kind=str(kind_of(model)),
                                 family=family.value, payload=to_payload(model),
                                 error=_describe(exc), body_source=body, extra=extra)

    def outbox_many(self, models: Sequence[Any], family: PayloadFamily,
                    exc: BaseException) -> list[str]:
        """Spool a whole batch with one locked write."""
        entries = [{"replay_ref": f"replay:{new_hex(20)}", "kind": str(kind_of(model)),
                    "family": family.value, "payload": to_payload(model),
                    "error": _describe(exc)} for model in models]
        self.outbox.spool_many(entries)
        return [entry["replay_ref"] for entry in entries]

    def _spooled(self, model: Any, family: PayloadFamily, exc: BaseException, refs: list[str],
                 run_key: str | None, factory: RecordFactory | None) -> CaptureResult:
        if run_key is not None:
            with self._lock:
                self._spooled_runs.add(run_key)
            if self._outages.note(run_key, factory, _describe(exc), spooled=len(refs),
                                  replay_refs=refs):
                logger.warning("store write failed for %s (%s); captures go to the outbox at "
                               "%s until the store accepts writes", run_key, _describe(exc),
                               self.outbox.root)
        detail = f"store unavailable ({_describe(exc)}); spooled to the outbox"
        return CaptureResult(
            ResultStatus.DEGRADED, payload=model, family=family,
            deliveries=(Delivery("workspace", family, DeliveryStatus.DEGRADED, detail),),
            warnings=(detail,), degradation_reasons=("store_unavailable",),
            recovered_to_outbox=True, replay_refs=tuple(refs),
        )

    # -- after a successful write ------------------------------------------------------
    def _stored(self, result: CaptureResult, run_key: str | None,
                factory: RecordFactory | None) -> CaptureResult:
        if run_key is not None and self._outages.pending:
            self._settle(run_key)
        return self._dispatched([result], run_key, factory)[0]

    def _dispatched(self, results: list[CaptureResult], run_key: str | None,
                    factory: RecordFactory | None) -> list[CaptureResult]:
        """Copies to the extra sinks; failed deliveries count towards the run's gap marker."""
        if self.dispatcher is None:
            return results
        delivered = [self.dispatcher.dispatch_capture(result) for result in results]
        if run_key is not None and self.write_markers:
            for before, after in zip(results, delivered, strict=True):
                failed = tuple(d.sink_name for d in after.deliveries[len(before.deliveries):]
                               if d.status is DeliveryStatus.FAILURE)
                if failed:
                    self._outages.note(run_key, factory, after.deliveries[-1].detail,
                                       sinks=failed,
                                       replay_refs=after.replay_refs[len(before.replay_refs):])
        return delivered

    def _settle(self, run_key: str, *, final: bool = False) -> None:
        """Write the run's due gap marker; at run close spool it if the store is still down."""
        outage = self._outages.take(run_key, final=final)
        if outage is None:
            return
        if not self.write_markers or outage.factory is None:
            return
        marker = outage.marker(os.fspath(self.outbox.root))
        try:
            self._owner.record_store.append(marker)
        except Exception as exc:
            if not final:
                self._outages.put_back(run_key, outage)
            elif self._can_absorb(exc, run_key, False):
                try:
                    self._spool(marker, PayloadFamily.DEGRADATION, exc)
                except CaptureError as spool_error:
                    self._lost(exc, spool_error, marker, PayloadFamily.DEGRADATION, 1)
            else:
                logger.warning("capture.delivery_degraded marker for %s lost: %s", run_key, exc)
            return
        if self.dispatcher is not None:
            self.dispatcher.dispatch_capture(
                stored_result(marker, PayloadFamily.DEGRADATION,
                              _OK_TUPLE[PayloadFamily.DEGRADATION]))

    def settle_run(self, run_key: str) -> None:
        """At run close: write (or spool) any pending gap marker so the gap stays visible."""
        if run_key in self._outages.pending:
            self._settle(run_key, final=True)


def _fields(result: CaptureResult) -> dict[str, Any]:
    return {name: getattr(result, name) for name in CaptureResult.__dataclass_fields__}


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    text = f"{type(exc).__name__}: {exc}"
    return f"{text} [{code}]" if code else text


def _ref_text(model: Any) -> str:
    from contexta.capture.sinks.protocol import extract_payload_ref

    return extract_payload_ref(model) or type(model).__name__
