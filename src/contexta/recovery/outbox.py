"""The capture outbox: a durable spool for what the stores could not take (contract §11.4).

Capture writes here only when a store write fails (disk full, read-only
workspace) and ``capture.dispatch_failure_mode`` is ``"outbox"``, so the
spool is on the failure path and favours safety over speed: each entry is one
JSON line appended under an exclusive ``flock`` on ``.lock``, and
:func:`replay_outbox` holds the same lock while it moves entries into the
stores and rewrites the file by rename. Every model carries its ref, so
replaying twice stores nothing twice.

Layout under ``recovery.outbox_root``: ``outbox.jsonl`` (pending),
``dead-letter.jsonl``, ``unreadable.jsonl`` (torn lines, kept, never
deleted) and ``bodies/`` (artifact bodies spooled with their entry).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import contexta.contract as contract
from contexta.errors import (
    CaptureError,
    ConflictError,
    ContextaError,
    ReplayError,
    StoreAccessError,
    ValidationError,
    truncate_value,
)
from contexta.recovery.results import RecoveryResult, ReplayBatchResult, ReplayEntryResult

__all__ = [
    "Outbox",
    "RecoveryResult",
    "ReplayBatchResult",
    "ReplayEntryResult",
    "replay_outbox",
]

logger = logging.getLogger(__name__)

_PENDING = "outbox.jsonl"
_DEAD = "dead-letter.jsonl"
_UNREADABLE = "unreadable.jsonl"
WORKSPACE_TARGET = "workspace"

# kind -> (deserializer in contexta.contract, repository attribute, put method)
CONTEXT_KINDS: Mapping[str, tuple[str, str, str]] = MappingProxyType({
    "project": ("deserialize_project", "projects", "put_project"),
    "run": ("deserialize_run", "runs", "put_run"),
    "deployment": ("deserialize_deployment_execution", "deployments",
                   "put_deployment_execution"),
    "stage": ("deserialize_stage_execution", "stages", "put_stage_execution"),
    "batch": ("deserialize_batch_execution", "batches", "put_batch_execution"),
    "sample": ("deserialize_sample_observation", "samples", "put_sample_observation"),
    "operation": ("deserialize_operation_context", "operations", "put_operation_context"),
    "environment": ("deserialize_environment_snapshot", "environments",
                    "put_environment_snapshot"),
    "relation": ("deserialize_lineage_edge", "relations", "put_relation"),
    "provenance": ("deserialize_provenance_record", "provenance", "put_provenance"),
})
RECORD_KINDS: Mapping[str, str] = MappingProxyType({
    "event": "deserialize_structured_event_record",
    "metric": "deserialize_metric_record",
    "span": "deserialize_trace_span_record",
    "degraded": "deserialize_degraded_record",
})


class Outbox:
    """Append-only spool under ``root``; safe across threads and processes."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.root = Path(root)
        self.fsync = fsync

    @property
    def pending_path(self) -> Path:
        return self.root / _PENDING

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive lock shared by spooling writers and replay (an ``flock``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def spool(self, *, replay_ref: str, kind: str, family: str, payload: Mapping[str, Any],
              target: str = WORKSPACE_TARGET, error: str | None = None,
              body_source: str | os.PathLike[str] | None = None,
              extra: Mapping[str, Any] | None = None) -> str:
        """Write one entry durably; raises ``CaptureError`` when even this fails."""
        entry: dict[str, Any] = {"replay_ref": replay_ref, "kind": kind, "family": family,
                                 "payload": dict(payload), "target": target, "error": error,
                                 **(extra or {})}
        self.spool_many([entry], body_source=body_source)
        return replay_ref

    def spool_many(self, entries: Sequence[dict[str, Any]], *,
                   body_source: str | os.PathLike[str] | None = None) -> None:
        """Append entries (``replay_ref``, ``kind``, ``family``, ``payload``, …) in one write."""
        try:
            with self.locked():
                if body_source is not None:
                    entries[0]["body"] = self._store_body(entries[0]["replay_ref"],
                                                          Path(body_source))
                lines = "".join(
                    json.dumps({"target": WORKSPACE_TARGET, "attempts": 0, "pid": os.getpid(),
                                **entry}, sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"), allow_nan=False) + "\n"
                    for entry in entries)
                self._append(self.pending_path, lines)
        except (OSError, ValueError, TypeError) as exc:
            refs = [entry.get("replay_ref") for entry in entries[:5]]
            message = f"capture could not be stored nor spooled to the outbox at {self.root}: {exc}"
            raise CaptureError(message, code="capture_dispatch_failed",
                               details={"outbox_root": str(self.root), "replay_refs": refs},
                               cause=exc) from exc

    def _store_body(self, replay_ref: str, source: Path) -> str:
        bodies = self.root / "bodies"
        bodies.mkdir(parents=True, exist_ok=True)
        name = replay_ref.replace(":", "-")
        temp = bodies / f".{name}.tmp"
        shutil.copyfile(source, temp)
        if self.fsync:
            with open(temp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(temp, bodies / name)
        return f"bodies/{name}"

    def _append(self, path: Path, line: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            data = memoryview(line.encode("utf-8"))
            while data:
                data = data[os.write(fd, data):]
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def read_entries(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Pending entries in spool order, plus lines that do not parse."""
        entries: list[dict[str, Any]] = []
        broken: list[str] = []
        try:
            text = self.pending_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return entries, broken
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                broken.append(line)
                continue
            if isinstance(entry, dict) and isinstance(entry.get("replay_ref"), str):
                entries.append(entry)
            else:
                broken.append(line)
        return entries, broken

    def rewrite(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Replace the pending file atomically (temp file, fsync, rename)."""
        temp = self.root / f".{_PENDING}.{os.getpid()}.tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            for entry in entries:
                handle.write(json.dumps(entry, sort_keys=True, ensure_ascii=False,
                                        separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.pending_path)
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def load_entry_model(entry: Mapping[str, Any]) -> Any:
    """Rebuild the contract model an entry carries (validated again)."""
    kind = entry.get("kind")
    name = (CONTEXT_KINDS[kind][0] if kind in CONTEXT_KINDS else RECORD_KINDS.get(kind)
            or ("deserialize_artifact_manifest" if kind == "artifact" else None))
    if name is not None:
        return getattr(contract, name)(entry["payload"])
    message = f"outbox entry kind {truncate_value(kind)} is unknown"
    raise ReplayError(message, details={"replay_ref": entry.get("replay_ref"), "kind": kind})


def _is_superseded(repository: Any, kind: str, model: Any) -> bool:
    """An older ``open`` put whose scope has since been closed is already applied."""
    if getattr(model, "status", None) != "open":
        return False
    ref_field = {"run": "run_ref", "stage": "stage_execution_ref",
                 "batch": "batch_execution_ref",
                 "deployment": "deployment_execution_ref"}.get(kind)
    if ref_field is None:
        return False
    finder = getattr(repository, "find_" + CONTEXT_KINDS[kind][2].removeprefix("put_"))
    stored = finder(getattr(model, ref_field))
    return stored is not None and stored.status != "open"


def apply_to_stores(entry: Mapping[str, Any], stores: Any, root: Path) -> str:
    """Write one entry into the workspace stores; returns a short detail."""
    kind = entry["kind"]
    model = load_entry_model(entry)
    if kind in CONTEXT_KINDS:
        repository = getattr(stores.metadata_store, CONTEXT_KINDS[kind][1])
        try:
            getattr(repository, CONTEXT_KINDS[kind][2])(model)
        except ConflictError:
            if _is_superseded(repository, kind, model):
                return "superseded by a later state already stored"
            raise
        return "stored"
    if kind in RECORD_KINDS:
        stores.record_store.append(model)
        return "stored"
    body = entry.get("body")
    if not body:
        message = f"outbox entry {entry['replay_ref']} has no spooled artifact body"
        raise ReplayError(message, details={"replay_ref": entry["replay_ref"]})
    stores.artifact_store.put_artifact(model, root / body, mode="copy",
                                       source_name=entry.get("source_name"))
    return "stored"


class _ConfigStores:
    """The three planes opened from a config, as replay needs them."""

    def __init__(self, config: Any) -> None:
        # Built exactly as the facade builds them, so durability settings match.
        from contexta.store.artifacts import ArtifactStore
        from contexta.store.metadata import MetadataStore
        from contexta.store.records import RecordStore

        try:
            metadata = MetadataStore(config.metadata, durability=config.records.durability_mode)
            self.metadata_store = metadata
            self.record_store = RecordStore(config.records, metadata_store=metadata)
            self.artifact_store = ArtifactStore(config.artifacts, metadata_store=metadata)
        except OSError as exc:
            if isinstance(exc, ContextaError):
                raise
            message = f"cannot open the workspace stores for replay: {exc}"
            raise StoreAccessError(message, details={"errno": exc.errno}, cause=exc) from exc

    def close(self) -> None:
        for store in (self.artifact_store, self.record_store, self.metadata_store):
            with contextlib.suppress(ContextaError):
                store.close()


def _check_arguments(**values: Any) -> None:
    for field, value in values.items():
        if value is not None and (type(value) is not int or value < 1):
            message = f"{field} must be a positive int or None; got {truncate_value(value)}"
            raise ValidationError(message, details={"field": field, "allowed": "int >= 1",
                                                    "value": truncate_value(value)})


def replay_outbox(
    config: Any,
    *,
    target: str | None = None,
    limit: int | None = None,
    acknowledge_successes: bool = True,
    dead_letter_after_failures: int | None = None,
    sinks: Sequence[Any] | None = None,
) -> ReplayBatchResult:
    """Move spooled captures into the workspace stores (or re-deliver to a sink).

    ``target=None``/``"workspace"`` writes into the stores; a sink name
    re-delivers that sink's spooled payloads to the sink of that name in
    ``sinks``. Entries are removed only after success.
    """
    _check_arguments(limit=limit, dead_letter_after_failures=dead_letter_after_failures)
    wanted = target or WORKSPACE_TARGET
    sink = None
    if wanted != WORKSPACE_TARGET:
        sink = next((item for item in sinks or () if getattr(item, "name", None) == wanted), None)
        if sink is None:
            message = f"target {wanted!r} is neither 'workspace' nor the name of a given sink"
            raise ValidationError(message, details={"field": "target", "value": wanted})
    outbox = Outbox(config.recovery.outbox_root)
    if not outbox.pending_path.exists():
        return ReplayBatchResult(status="SUCCESS", notes=("outbox_empty",))
    return _run_replay(outbox, wanted, sink, config, limit=limit,
                       acknowledge_successes=acknowledge_successes,
                       dead_letter_after_failures=dead_letter_after_failures)


def _run_replay(
    outbox: Outbox,
    wanted: str,
    sink: Any,
    config: Any,
    *,
    limit: int | None,
    acknowledge_successes: bool,
    dead_letter_after_failures: int | None,
) -> ReplayBatchResult:
    results: list[ReplayEntryResult] = []
    warnings: list[str] = []
    dead: list[dict[str, Any]] = []
    keep: list[dict[str, Any]] = []
    acknowledged = 0
    retried = False
    with outbox.locked():
        entries, broken = outbox.read_entries()
        for line in broken:  # torn lines are kept aside, never deleted
            outbox._append(outbox.root / _UNREADABLE, line + "\n")
        if broken:
            warnings.append(f"unreadable_outbox_lines:{len(broken)}")
        stores = _ConfigStores(config) if sink is None and entries else None
        try:
            for entry in entries:
                if entry.get("target", WORKSPACE_TARGET) != wanted or (
                        limit is not None and len(results) >= limit):
                    keep.append(entry)
                    continue
                ok, detail = _replay_one(entry, stores, sink, outbox.root)
                attempts = int(entry.get("attempts", 0)) + 1
                family = str(entry.get("family", ""))
                if ok:
                    acknowledged += 1
                    results.append(ReplayEntryResult(entry["replay_ref"], family, wanted,
                                                     "SUCCESS", detail, attempts))
                    if acknowledge_successes:
                        _drop_body(outbox.root, entry)
                    else:
                        keep.append(entry)
                    continue
                entry = {**entry, "attempts": attempts, "last_error": detail}
                retried = True  # the attempt count must reach the file, or no entry ever
                #                 gets to dead_letter_after_failures across replays
                if dead_letter_after_failures is not None and (
                        attempts >= dead_letter_after_failures):
                    dead.append(entry)
                    status = "DEAD_LETTERED"
                else:
                    keep.append(entry)
                    status = "FAILURE"
                results.append(ReplayEntryResult(entry["replay_ref"], family, wanted, status,
                                                 detail, attempts))
        finally:
            if stores is not None:
                stores.close()
        for entry in dead:
            outbox._append(outbox.root / _DEAD, json.dumps(entry, sort_keys=True) + "\n")
        if broken or retried or len(keep) != len(entries):
            outbox.rewrite(keep)
    pending = sum(1 for entry in keep if entry.get("target", WORKSPACE_TARGET) == wanted)
    if not acknowledge_successes:
        pending -= acknowledged  # kept on request, but already stored
    if not results or (acknowledged == len(results) and pending == 0):
        status = "SUCCESS"
    elif acknowledged == 0:
        status = "FAILURE"
    else:
        status = "DEGRADED"
    return ReplayBatchResult(status=status, warnings=tuple(warnings), entries=tuple(results),
                             acknowledged_count=acknowledged, pending_count=pending,
                             dead_lettered_count=len(dead),
                             details={"outbox_root": str(outbox.root), "target": wanted})


def _replay_one(entry: Mapping[str, Any], stores: Any, sink: Any,
                root: Path) -> tuple[bool, str]:
    try:
        if sink is None:
            return True, apply_to_stores(entry, stores, root)
        receipt = sink.capture(family=entry.get("family"), payload=load_entry_model(entry))
        return True, str(getattr(receipt, "detail", "") or "delivered")
    except Exception as exc:  # each entry fails alone; the others still replay
        logger.warning("outbox entry %s not replayed: %s", entry.get("replay_ref"), exc)
        return False, f"{type(exc).__name__}: {exc}"


def _drop_body(root: Path, entry: Mapping[str, Any]) -> None:
    body = entry.get("body")
    if body:
        with contextlib.suppress(OSError):
            (root / str(body)).unlink()
