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

The default outbox (``<workspace>/cache/outbox``) sits on the workspace's own
file system, so the disk-full or read-only episode that made the store fail
usually makes the outbox fail too. When writing there fails with an
``OSError`` (ENOSPC, EROFS, EACCES, ENOTDIR, …) the entry goes to a fallback
outbox outside the workspace (``_fallback.py``: the user's state directory, then
the temp dir; private 0700 directories per user and outbox). :func:`replay_outbox`
replays every location as one, in capture order (each entry carries the
``spooled_ns`` stamp it got when spooled; see ``_passes.py``), acknowledging
each entry where it lives. Only when every fallback fails as well does spooling
raise ``CaptureError`` (``capture_spool_failed``).
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
    NotFoundError,
    ReplayError,
    StoreAccessError,
    ValidationError,
    truncate_value,
)
from contexta.recovery._fallback import fallback_outbox_roots, is_private, make_private_dir
from contexta.recovery._passes import (
    STAMP_FIELD,
    WORKSPACE_TARGET,
    Outcome,
    Pending,
    ReplayBatch,
    next_stamp,
    replay_in_passes,
)
from contexta.recovery.results import RecoveryResult, ReplayBatchResult, ReplayEntryResult
from contexta.store.workspace import check_root_is_a_folder

__all__ = [
    "Outbox",
    "fallback_outbox_root",
    "fallback_outbox_roots",
    "RecoveryResult",
    "ReplayBatchResult",
    "ReplayEntryResult",
    "replay_outbox",
]

logger = logging.getLogger(__name__)

_PENDING = "outbox.jsonl"
_DEAD = "dead-letter.jsonl"
_UNREADABLE = "unreadable.jsonl"

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


def fallback_outbox_root(root: str | os.PathLike[str]) -> Path:
    """The first place spooling goes when ``root`` cannot be written (``_fallback``)."""
    return fallback_outbox_roots(root)[0]


def body_path(root: Path, entry: Mapping[str, Any]) -> Path | None:
    """The entry's spooled body, only if it names a file in ``root/bodies`` (else ``None``).

    Capture writes ``bodies/<name>``; anything else (absolute, ``..``, deeper) did not
    come from capture and is never read or deleted.
    """
    body = entry.get("body")
    if not isinstance(body, str):
        return None
    parts = body.split("/")
    if len(parts) != 2 or parts[0] != "bodies" or parts[1] in ("", ".", "..") \
            or os.sep in parts[1] or (os.altsep and os.altsep in parts[1]):
        return None
    return root / "bodies" / parts[1]


class Outbox:
    """Append-only spool under ``root``; safe across threads and processes.

    ``fallback=True`` (the default) lets :meth:`spool_many` write to the
    :func:`fallback_outbox_roots` (in order) when ``root`` cannot be written.
    """

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = False,
                 fallback: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync
        self._fallback_enabled = fallback
        self._fallbacks: tuple[Outbox, ...] | None = None
        self._fallback_warned = False

    @property
    def fallbacks(self) -> tuple[Outbox, ...]:
        """The outboxes used when ``root`` fails (they have no fallbacks of their own)."""
        if self._fallbacks is None:
            self._fallbacks = tuple(
                Outbox(path, fsync=self.fsync, fallback=False)
                for path in fallback_outbox_roots(self.root)) if self._fallback_enabled else ()
        return self._fallbacks

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
        """Append entries (``replay_ref``, ``kind``, ``family``, ``payload``, …) in one write.

        An ``OSError`` at ``root`` (the workspace's disk is full or read-only, as it
        usually is when the store just failed) sends the entries to :attr:`fallback`
        instead; ``CaptureError`` (``capture_spool_failed``) only when both fail.
        """
        entries = [{STAMP_FIELD: next_stamp(), **entry} for entry in entries]
        try:
            self._write(entries, body_source)
            return
        except (OSError, ValueError, TypeError) as exc:
            error: BaseException = exc
        tried = self.fallbacks if isinstance(error, OSError) else ()
        for fallback in tried:
            try:
                make_private_dir(fallback.root)
                fallback._write(entries, body_source)
            except (OSError, ValueError, TypeError) as exc:
                error = exc
                continue
            if not self._fallback_warned:
                self._fallback_warned = True
                logger.warning("the outbox at %s cannot be written; captures are spooled to "
                               "%s instead until it can (replay_outbox replays both)",
                               self.root, fallback.root)
            return
        refs = [entry.get("replay_ref") for entry in entries[:5]]
        where = ", ".join(str(path) for path in (self.root, *(f.root for f in tried)))
        message = f"capture could not be stored nor spooled to an outbox ({where}): {error}"
        raise CaptureError(message, code="capture_spool_failed",
                           details={"outbox_root": str(self.root),
                                    "fallback_outbox_root": (str(tried[0].root) if tried
                                                             else None),
                                    "replay_refs": refs, "count": len(entries)},
                           cause=error) from error

    def _write(self, entries: Sequence[dict[str, Any]],
               body_source: str | os.PathLike[str] | None) -> None:
        with self.locked():
            body = None
            if body_source is not None:
                body = self._store_body(entries[0]["replay_ref"], Path(body_source))
            lines = "".join(
                json.dumps({"target": WORKSPACE_TARGET, "attempts": 0, "pid": os.getpid(),
                            **entry, **({"body": body} if body and i == 0 else {})},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           allow_nan=False) + "\n"
                for i, entry in enumerate(entries))
            try:
                self._append(self.pending_path, lines)
            except BaseException:
                if body is not None:  # the entry went elsewhere (or nowhere): no orphan body
                    with contextlib.suppress(OSError):
                        (self.root / body).unlink()
                raise

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
        """Append whole lines, or nothing: a write cut short (ENOSPC) is truncated away,
        so the next append does not glue its entry onto a torn line."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size  # callers hold the lock: nobody else appends
            try:
                data = memoryview(line.encode("utf-8"))
                while data:
                    data = data[os.write(fd, data):]
                if self.fsync:
                    os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise
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

    def set_aside(self, lines: Sequence[str]) -> None:
        """Keep lines that do not parse in ``unreadable.jsonl``: never deleted."""
        self._append(self.root / _UNREADABLE, "".join(line + "\n" for line in lines))

    def dead_letter(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Move entries that failed too often to ``dead-letter.jsonl``."""
        if entries:
            self._append(self.root / _DEAD, "".join(
                json.dumps(entry, sort_keys=True) + "\n" for entry in entries))

    def drop_body(self, entry: Mapping[str, Any]) -> None:
        """Remove an acknowledged entry's spooled artifact body, if it has one."""
        path = body_path(self.root, entry)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()

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


def _is_same_project(repository: Any, kind: str, model: Any) -> bool:
    """A spooled ``Project`` whose ref is stored under the same name is already applied.

    Capture spools a freshly built ``Project`` when it cannot read the store (a
    read-only episode), so its ``created_at`` differs from the stored one; the
    project is there all the same, and the stored ``created_at`` wins. Only a
    different name is a real conflict.
    """
    if kind != "project":
        return False
    stored = repository.find_project(model.project_ref)
    return stored is not None and stored.name == model.name


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
            if _is_same_project(repository, kind, model):
                return "project already stored (the stored created_at is kept)"
            raise
        return "stored"
    if kind in RECORD_KINDS:
        stores.record_store.append(model)
        return "stored"
    body = body_path(root, entry)
    if body is None:
        message = (f"outbox entry {entry['replay_ref']}: body {entry.get('body')!r} is not a "
                   "spooled artifact body (allowed: 'bodies/<name>' inside the outbox)")
        raise ReplayError(message, details={"replay_ref": entry["replay_ref"],
                                            "field": "body", "value": entry.get("body")})
    stores.artifact_store.put_artifact(model, body, mode="copy",
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


def _sink_named(wanted: str, sinks: Sequence[Any] | None) -> Any:
    """The sink ``wanted`` names, or ``None`` when replay goes to the workspace stores."""
    if wanted == WORKSPACE_TARGET:
        return None
    sink = next((item for item in sinks or () if getattr(item, "name", None) == wanted), None)
    if sink is None:
        message = f"target {wanted!r} is neither 'workspace' nor the name of a given sink"
        raise ValidationError(message, details={"field": "target", "value": wanted})
    return sink


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

    The configured outbox and its fallbacks outside the workspace
    (:func:`fallback_outbox_roots`, used while the configured one could not be
    written) are replayed together, in capture order (one run can be split
    between them), each entry acknowledged in the file it lives in; ``limit``
    counts across all. A fallback that is not this user's private directory is
    left untouched (a warning says so). Entries that fail for a missing parent are retried in
    the same call while others still get stored, and only what then still fails
    counts toward ``dead_letter_after_failures``.
    """
    _check_arguments(limit=limit, dead_letter_after_failures=dead_letter_after_failures)
    check_root_is_a_folder(config.workspace.root_path)
    wanted = target or WORKSPACE_TARGET
    sink = _sink_named(wanted, sinks)
    primary = Outbox(config.recovery.outbox_root)
    outboxes, ignored = _trusted_outboxes(primary)
    if not outboxes:
        return ReplayBatchResult(status="DEGRADED" if ignored else "SUCCESS",
                                 warnings=ignored, notes=("outbox_empty",))
    with contextlib.ExitStack() as held:
        for outbox in outboxes:  # always configured, then fallbacks: one lock order
            held.enter_context(outbox.locked())
        batch = ReplayBatch(outboxes, wanted, acknowledge_successes=acknowledge_successes,
                            dead_letter_after=dead_letter_after_failures)
        batch.warnings.extend(ignored)
        items = batch.select(limit)
        batch.settle(items, _attempt_all(items, outboxes, config, sink))
        batch.write_back()
    fallbacks = [str(outbox.root) for outbox in primary.fallbacks]
    return batch.result({"outbox_root": str(primary.root), "fallback_outbox_root": fallbacks[0],
                         "fallback_outbox_roots": fallbacks, "target": wanted})


def _trusted_outboxes(primary: Outbox) -> tuple[list[Outbox], tuple[str, ...]]:
    """The outboxes holding entries; a fallback that is not private is left untouched."""
    outboxes = [primary] if primary.pending_path.exists() else []
    ignored: list[str] = []
    for fallback in primary.fallbacks:
        if not fallback.pending_path.exists():
            continue
        if is_private(fallback.root):
            outboxes.append(fallback)
            continue
        logger.warning("fallback outbox %s ignored: not a private directory of this user",
                       fallback.root)
        ignored.append(f"fallback_outbox_not_private:{fallback.root}")
    return outboxes, tuple(ignored)


def _attempt_all(items: Sequence[Pending], outboxes: Sequence[Outbox], config: Any,
                 sink: Any) -> list[Outcome]:
    """Replay ``items`` in passes into the stores (opened once, if needed) or the sink."""
    if not items:
        return []
    stores = _ConfigStores(config) if sink is None else None
    try:
        return replay_in_passes(items, lambda item: _replay_one(
            item.entry, stores, sink, outboxes[item.source].root))
    finally:
        if stores is not None:
            stores.close()


def _replay_one(entry: Mapping[str, Any], stores: Any, sink: Any, root: Path) -> Outcome:
    """One attempt; a ``NotFoundError`` (a parent not stored yet) is marked for a retry."""
    try:
        if sink is None:
            return Outcome(True, apply_to_stores(entry, stores, root))
        receipt = sink.capture(family=entry.get("family"), payload=load_entry_model(entry))
        return Outcome(True, str(getattr(receipt, "detail", "") or "delivered"))
    except Exception as exc:  # each entry fails alone; the others still replay
        return Outcome(False, f"{type(exc).__name__}: {exc}",
                       missing_parent=isinstance(exc, NotFoundError))
