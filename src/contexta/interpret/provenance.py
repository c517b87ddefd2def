"""Reproducibility audits and environment comparisons (contract §5.14)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contexta.interpret.instants import instant_key
from contexta.interpret.results import (
    CompletenessNote,
    EnvironmentDiff,
    EnvironmentValueChange,
    EvidenceLink,
    ReproducibilityAudit,
)

if TYPE_CHECKING:
    from contexta.interpret.query import QueryService
    from contexta.interpret.state import ReadState

__all__ = ["ProvenanceService", "effective_code_revision"]


def effective_code_revision(run: Any, environment: Any, provenance: Any) -> str | None:
    """Run ``metadata["code_revision"]``, else the snapshot's git commit, else provenance's
    ``formation_context_ref`` (contract §5.7)."""
    revision = (getattr(run, "metadata", None) or {}).get("code_revision")
    if isinstance(revision, str) and revision:
        return revision
    if environment is not None and environment.git_commit:
        return str(environment.git_commit)
    if provenance is not None and provenance.formation_context_ref:
        return str(provenance.formation_context_ref)
    return None


def _latest_environment(state: ReadState, run_ref: str) -> Any | None:
    snapshots = state.repository.list_environments([run_ref])
    return max(
        snapshots,
        key=lambda e: (instant_key(e.captured_at), str(e.environment_snapshot_ref)),
        default=None,
    )


_Changes = tuple[EnvironmentValueChange, ...]


def _diff(left: Mapping[str, str], right: Mapping[str, str]) -> tuple[_Changes, _Changes, _Changes]:
    added = tuple(EnvironmentValueChange(k, None, right[k]) for k in sorted(set(right) - set(left)))
    removed = tuple(
        EnvironmentValueChange(k, left[k], None) for k in sorted(set(left) - set(right))
    )
    changed = tuple(
        EnvironmentValueChange(k, left[k], right[k])
        for k in sorted(set(left) & set(right))
        if left[k] != right[k]
    )
    return added, removed, changed


class ProvenanceService:
    """``ProvenanceService(query_service)``."""

    def __init__(self, query_service: QueryService) -> None:
        self.query_service = query_service

    def audit_reproducibility(self, run_id: object) -> ReproducibilityAudit:
        """Whether environment, code revision and provenance/config hash are recorded."""
        state = self.query_service.read_state()
        run = state.resolve_run(run_id)
        run_ref = str(run.run_ref)
        environment = _latest_environment(state, run_ref)
        provenance = self.query_service.get_provenance(run_ref)
        revision = effective_code_revision(run, environment, provenance)
        config_hash = (run.metadata or {}).get("config_hash")
        present = {
            "environment_missing": environment is not None,
            "code_revision_missing": revision is not None,
            "provenance_missing": provenance is not None or bool(config_hash),
        }
        count = sum(present.values())
        status = "complete" if count == 3 else "missing" if count == 0 else "partial"
        notes = tuple(
            CompletenessNote("warning", note, {"run_id": run_ref})
            for note, ok in present.items()
            if not ok
        )
        record = state.run_record(run)
        links = [EvidenceLink("run", run_ref, record.name)]
        env_ref = None
        if environment is not None:
            env_ref = str(environment.environment_snapshot_ref)
            links.append(EvidenceLink("environment", env_ref, environment.python_version))
        return ReproducibilityAudit(
            run_ref,
            provenance,
            env_ref,
            None if environment is None else environment.python_version,
            None if environment is None else environment.platform,
            0 if environment is None else len(environment.packages),
            0 if environment is None else len(environment.environment_variables),
            status,
            notes,
            tuple(links),
            revision,
            None if environment is None else environment.git_dirty,
            None if environment is None else environment.hostname,
        )

    def compare_environments(self, left_run_id: object, right_run_id: object) -> EnvironmentDiff:
        """Differences between the latest environment snapshots of two runs."""
        state = self.query_service.read_state()
        left_ref = str(state.resolve_run(left_run_id).run_ref)
        right_ref = str(state.resolve_run(right_run_id).run_ref)
        left = _latest_environment(state, left_ref)
        right = _latest_environment(state, right_ref)
        notes = []
        if left is None:
            notes.append(
                CompletenessNote("warning", "environment_missing:left", {"run_id": left_ref})
            )
        if right is None:
            notes.append(
                CompletenessNote("warning", "environment_missing:right", {"run_id": right_ref})
            )
        links = tuple(
            EvidenceLink("environment", str(env.environment_snapshot_ref), side)
            for env, side in ((left, "left"), (right, "right"))
            if env is not None
        )
        if left is None or right is None:
            return EnvironmentDiff(
                left_ref,
                right_ref,
                None if left is None else str(left.environment_snapshot_ref),
                None if right is None else str(right.environment_snapshot_ref),
                False,
                False,
                completeness_notes=tuple(notes),
                evidence_links=links,
            )
        packages = _diff(left.packages, right.packages)
        variables = _diff(left.environment_variables, right.environment_variables)
        return EnvironmentDiff(
            left_ref,
            right_ref,
            str(left.environment_snapshot_ref),
            str(right.environment_snapshot_ref),
            left.python_version != right.python_version,
            left.platform != right.platform,
            *packages,
            *variables,
            completeness_notes=(),
            evidence_links=links,
        )
