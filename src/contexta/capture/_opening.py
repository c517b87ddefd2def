"""What a run start writes besides the run: project, environment, config snapshot (§8.1, §8.7)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contexta.capture import _environment
from contexta.capture._artifacts import produced_by_edge
from contexta.capture._clock import utc_now_text
from contexta.capture._naming import MAX_COMPONENT_CHARS, run_component, slug
from contexta.capture._redaction import REDACTED, Redactor
from contexta.contract import ArtifactManifest, EnvironmentSnapshot, Project, StableRef
from contexta.contract.refs import coerce_ref
from contexta.errors import (
    ConflictError,
    ContextaError,
    NotFoundError,
    ValidationError,
    truncate_value,
)

if TYPE_CHECKING:
    from contexta.capture._scope import Scope
    from contexta.capture.scopes import RunScope
    from contexta.capture.session import RuntimeSession

__all__ = ["config_hash", "ensure_project", "new_run_ref", "open_root", "owner_metadata",
           "project_ref", "write_config_snapshot", "write_environment"]

logger = logging.getLogger(__name__)
_BAD_KEY = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# ``--flag=value`` or a ``NAME=value`` assignment word: a secret name hides all the rest.
_SECRET_FLAG = re.compile(r"^(--?[^=]+|[A-Za-z_][A-Za-z0-9_.-]*)(=)(.*)$", re.DOTALL)


def project_ref(session: RuntimeSession) -> StableRef:
    """``project:<slug(config.project_name)>`` (§8.2), slugged once per name."""
    name = session.config.project_name
    cached = session._project_ref
    if cached is not None and cached[0] == name:
        return cached[1]
    ref = StableRef("project", slug(name))
    session._project_ref = (name, ref)
    return ref


def ensure_project(session: RuntimeSession, ref: StableRef, run_key: str,
                   strict: bool) -> None:
    """Put the project of ``config.project_name`` if absent; a name clash is an error.

    Once the store holds it under this name, later run starts of the session skip the
    lookup: metadata rows are never deleted, and a project's name never changes.
    """
    name = session.config.project_name
    if session._project_ok == (ref, name):
        return
    _ensure_project(session, ref, name, run_key, strict)


def _ensure_project(session: RuntimeSession, ref: StableRef, name: str, run_key: str,
                    strict: bool) -> None:
    projects = None
    with contextlib.suppress(ContextaError):
        projects = session.owner.metadata_store.projects
    stored = None
    with contextlib.suppress(ContextaError):  # unreadable store: the put below decides
        stored = projects.find_project(ref) if projects is not None else None
    if stored is None:
        model = Project(project_ref=ref, name=name, created_at=utc_now_text())
        try:
            result = session.writer.put(model, run_key=run_key, strict=strict)
        except ConflictError:  # another process created it a moment ago
            stored = projects.find_project(ref) if projects is not None else None
        else:
            if not result.recovered_to_outbox:
                session._project_ok = (ref, name)
            return
    if stored is not None and stored.name != name:
        message = (f"project ref {ref.text} already belongs to project {stored.name!r}, "
                   f"not {name!r}; choose a project_name with a different slug")
        raise ConflictError(message, code="capture_project_name_conflict",
                            details={"ref": ref.text, "stored_name": stored.name,
                                     "project_name": name})
    if stored is not None:
        session._project_ok = (ref, name)


def open_root(session: RuntimeSession, scope: Scope, project_ref: StableRef, run_key: str,
              strict: bool) -> Scope:
    """Put the project if needed, then open the run or deployment ``scope``.

    The project check is skipped once the project is known to be stored; should the
    store have lost it anyway (a workspace deleted under a live process), the put's
    parent check says so and the project is written again.
    """
    ensure_project(session, project_ref, run_key, strict)
    try:
        return session._open_scope(scope)
    except NotFoundError as exc:
        code = str(getattr(exc, "code", ""))
        if session._project_ok is None or not (code.startswith("metadata_missing_")
                                               and code.endswith("_project")):
            raise
    session._project_ok = None
    ensure_project(session, project_ref, run_key, strict)
    return session._open_scope(scope)


def new_run_ref(session: RuntimeSession, name: Any, run_id: Any,
                project_ref: StableRef) -> StableRef:
    """``run:<project>.<slug>-<8 hex>``, or the caller's ``run_id`` if not taken."""
    project = project_ref.value
    if run_id is None:
        if not isinstance(name, str):
            message = f"run name must be a str; got {truncate_value(name)}"
            raise ValidationError(message, code="context_invalid_name",
                                  details={"field": "name", "value": truncate_value(name)})
        return StableRef("run", f"{project}.{run_component(name, project)}")
    if isinstance(run_id, StableRef) or (isinstance(run_id, str) and run_id.startswith("run:")):
        ref = coerce_ref(run_id, "run_id", "run")
        if ref.components[0] != project:
            message = f"run_id {ref.text!r} belongs to another project; expected run:{project}.<id>"
            raise ValidationError(message, code="stable_ref_prefix_mismatch",
                                  details={"field": "run_id", "value": ref.text})
    elif isinstance(run_id, str) and run_id.strip():
        room = min(MAX_COMPONENT_CHARS, 255 - len("run:") - len(project) - 1)
        ref = StableRef("run", f"{project}.{slug(run_id, room)}")
    else:
        message = f"run_id must be a non-blank str or a run ref; got {truncate_value(run_id)}"
        raise ValidationError(message, details={"field": "run_id",
                                                "value": truncate_value(run_id)})
    if session._exists("run", ref):
        message = f"run {ref.text} already exists; omit run_id to get a fresh run"
        raise ConflictError(message, code="capture_run_exists", details={"ref": ref.text})
    return ref


def command_line(redactor: Redactor) -> str:
    """The command line with values of secret-looking flags and URL passwords masked."""
    words = _environment.command_words()
    if redactor.mode == "off":
        return _environment.join_words(words)
    parts: list[str] = []
    mask_next = False
    for arg in words:
        if mask_next:  # the value after ``--password``
            parts.append(REDACTED)
            mask_next = False
        else:
            parts.append(_redacted_word(redactor, arg))
            mask_next = _takes_secret_value(redactor, arg)
    return _environment.join_words(parts)


def _redacted_word(redactor: Redactor, arg: str) -> str:
    """``--api-token=abc``, ``MYSQL_PWD=abc`` → value ``[REDACTED]``; other secrets masked.

    ``MYSQL_PWD`` counts only when ``pwd`` is among ``security.secret_key_patterns``.
    """
    match = _SECRET_FLAG.match(arg)
    if match and redactor.is_secret(match.group(1)):
        return f"{match.group(1)}={REDACTED}"
    return redactor.text(arg)


def _takes_secret_value(redactor: Redactor, arg: str) -> bool:
    """``--password VALUE``: a secret-named flag without ``=`` hides the next word.

    Only the flag name counts, so ``--source=s3://key:…`` does not hide the next word.
    """
    return arg.startswith("-") and "=" not in arg and redactor.is_secret(arg)


def owner_metadata(session: RuntimeSession, git: _environment.GitState) -> dict[str, Any]:
    """Liveness and provenance facts kept in ``Run.metadata`` under ``contexta.`` (§8.8)."""
    data: dict[str, Any] = {"contexta.owner_host": session.facts().hostname,
                            "contexta.owner_pid": os.getpid(),
                            "contexta.command_line": command_line(session.redactor)}
    if git.branch:
        data["contexta.git_branch"] = git.branch
    return data


def config_hash(snapshot: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(snapshot).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def _clean_env(values: Mapping[str, str]) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in values.items():
        if not key or len(key) > 255 or _BAD_KEY.search(key) or key.isspace():
            continue
        text = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        clean[key.encode("utf-8", "surrogateescape").decode("utf-8", "replace")] = (
            text.replace("\x00", "")[:100_000])
    return clean


def write_environment(scope: RunScope, git: _environment.GitState) -> None:
    """Store ``environment:<run>.runtime``; a bad value never stops the run."""
    session = scope._session
    facts = session.facts()
    packages = {name[:255]: version[:255] for name, version in facts.packages.items()}
    try:
        snapshot = EnvironmentSnapshot(
            environment_snapshot_ref=f"environment:{scope._ref.value}.runtime",
            run_ref=scope._ref, captured_at=utc_now_text(),
            python_version=facts.python_version, platform=facts.platform,
            packages=packages,
            environment_variables=_clean_env(session.redactor.environment(dict(os.environ))),
            hostname=facts.hostname or None, git_commit=git.commit,
            git_dirty=git.dirty if git.commit else None)
    except ContextaError as exc:
        logger.warning("environment snapshot of %s skipped: %s", scope.ref, exc)
        return
    scope._writer.put(snapshot, run_key=scope._run_key, strict=scope._strict,
                      factory=scope._factory)


def write_config_snapshot(scope: RunScope) -> None:
    """Store the config snapshot as ``artifact:<run>.config-snapshot`` (canonical JSON)."""
    snapshot = scope._config_snapshot
    if snapshot is None:
        return
    body = _canonical(snapshot).encode("utf-8")
    ref = StableRef("artifact", f"{scope._ref.value}.config-snapshot")
    manifest = ArtifactManifest(
        artifact_ref=ref, artifact_kind="config_snapshot", created_at=utc_now_text(),
        producer_ref=scope._session.producer_ref, run_ref=scope._ref,
        location_ref="inline:config_snapshot", hash_value=hashlib.sha256(body).hexdigest(),
        size_bytes=len(body), attributes={"media_type": "application/json"})
    handle, path = tempfile.mkstemp(prefix="contexta-config-", suffix=".json")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        scope._artifact_keys.add("config-snapshot")
        scope._writer.put_artifact(manifest, path, produced_by_edge(scope._ref, ref, None),
                                   run_key=scope._run_key, strict=scope._strict,
                                   factory=scope._factory, source_name="config-snapshot.json",
                                   mode="copy")
        scope._config_snapshot_ref = ref.text
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
