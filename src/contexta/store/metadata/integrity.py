"""Metadata-plane verification and repair planning (contract.md §4.2).

Every check is one anti-join, so verifying a large workspace stays fast.
Repairs are planned and previewed only: the metadata plane never deletes rows
on its own, it tells the user what is wrong and what would fix it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from contexta.contract.timestamps import now_timestamp
from contexta.errors import ContextaError
from contexta.store.metadata.entities import ENTITIES, RELATION_ENDPOINT_TABLES
from contexta.store.sql import schema

if TYPE_CHECKING:
    from contexta.store.metadata.store import MetadataStore

__all__ = [
    "IntegrityIssue",
    "IntegrityReport",
    "RepairCandidate",
    "RepairPlan",
    "RepairPreview",
    "check_integrity",
    "plan_repairs",
    "preview_repairs",
]


@dataclass(frozen=True, slots=True)
class IntegrityIssue:
    code: str
    message: str
    rule_id: str | None = None
    category: str = "integrity"
    severity: str = "error"
    ref: str | None = None
    suggested_action: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    ok: bool
    store_schema_version: str
    checked_at: str
    issues: tuple[IntegrityIssue, ...] = ()
    issue_counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RepairCandidate:
    code: str
    ref: str | None
    action: str
    description: str


@dataclass(frozen=True, slots=True)
class RepairPlan:
    candidates: tuple[RepairCandidate, ...] = ()
    source_report: IntegrityReport | None = None


@dataclass(frozen=True, slots=True)
class RepairPreview:
    plan: RepairPlan
    would_change: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# (code, child table, child column, parent table, suggestion)
_ORPHAN_RULES = (
    ("missing_run_project", schema.runs, "project_ref", schema.projects, "put the project"),
    ("missing_stage_run", schema.stages, "run_ref", schema.runs, "put the run"),
    ("missing_batch_stage", schema.batches, "stage_ref", schema.stages, "put the stage"),
    ("missing_sample_owner", schema.samples, "stage_ref", schema.stages, "put the stage"),
    ("missing_operation_owner", schema.operations, "stage_ref", schema.stages, "put the stage"),
    (
        "missing_deployment_project",
        schema.deployments,
        "project_ref",
        schema.projects,
        "put the project",
    ),
    ("missing_deployment_run", schema.deployments, "run_ref", schema.runs, "put the run"),
    ("missing_environment_run", schema.environments, "run_ref", schema.runs, "put the run"),
    (
        "missing_provenance_relation",
        schema.provenance,
        "relation_ref",
        schema.relations,
        "put the relation",
    ),
)


def check_integrity(store: MetadataStore, *, full: bool = True) -> IntegrityReport:
    """Check parents, duplicate stage names and (with ``full``) every stored body."""
    issues: list[IntegrityIssue] = []
    db = store._db
    with db.read("checking metadata integrity") as conn:
        for code, child, column, parent, action in _ORPHAN_RULES:
            col = child.c[column]
            stmt = (
                select(child.c.ref, col)
                .select_from(child.outerjoin(parent, parent.c.ref == col))
                .where(col.is_not(None), parent.c.ref.is_(None))
            )
            for ref, missing in conn.execute(stmt):
                issues.append(
                    IntegrityIssue(
                        code,
                        f"{ref} points at missing {missing}",
                        rule_id=code,
                        ref=ref,
                        suggested_action=action,
                        details={"missing_ref": missing},
                    )
                )
        rel = schema.relations
        for end, code in (
            ("source_ref", "missing_relation_source"),
            ("target_ref", "missing_relation_target"),
        ):
            for ref, target in conn.execute(select(rel.c.ref, rel.c[end])):
                kind = target.split(":", 1)[0]
                table = RELATION_ENDPOINT_TABLES.get(kind)
                if table is None:
                    continue
                if conn.execute(select(table.c.ref).where(table.c.ref == target)).first() is None:
                    issues.append(
                        IntegrityIssue(
                            code,
                            f"relation {ref} {end} {target} is missing",
                            rule_id=code,
                            ref=ref,
                            suggested_action=f"put {target}",
                        )
                    )
        st = schema.stages
        dup = (
            select(st.c.run_ref, st.c.name, func.count())
            .group_by(st.c.run_ref, st.c.name)
            .having(func.count() > 1)
        )
        for run_ref, name, count in conn.execute(dup):
            issues.append(
                IntegrityIssue(
                    "duplicate_stage_name_for_run",
                    f"run {run_ref} has {count} stages named {name!r}",
                    ref=run_ref,
                    severity="warning",
                )
            )
        if full:
            for spec in ENTITIES.values():
                for ref, body in conn.execute(select(spec.table.c.ref, spec.table.c.body)):
                    try:
                        spec.deserialize(body)
                    except ContextaError as error:
                        issues.append(
                            IntegrityIssue(
                                "unreadable_row",
                                f"{ref}: {error.message}",
                                ref=ref,
                                suggested_action="restore this row from a backup",
                            )
                        )
                        continue
                    if ":" not in ref or ref.split(":", 1)[0] != spec.kind:
                        issues.append(
                            IntegrityIssue(
                                "malformed_registered_ref",
                                f"{ref} is stored as a {spec.name}",
                                ref=ref,
                            )
                        )
    counts = dict(Counter(issue.code for issue in issues))
    return IntegrityReport(
        ok=not issues,
        store_schema_version=store.get_store_schema_version(),
        checked_at=now_timestamp(),
        issues=tuple(issues),
        issue_counts=counts,
    )


def plan_repairs(store: MetadataStore, report: IntegrityReport | None = None) -> RepairPlan:
    report = report or check_integrity(store)
    candidates = tuple(
        RepairCandidate(issue.code, issue.ref, issue.suggested_action or "inspect", issue.message)
        for issue in report.issues
    )
    return RepairPlan(candidates, report)


def preview_repairs(store: MetadataStore, plan: RepairPlan | None = None) -> RepairPreview:
    plan = plan or plan_repairs(store)
    changes = tuple(f"{c.ref}: {c.action}" for c in plan.candidates)
    return RepairPreview(
        plan, changes, ("metadata repairs are applied by the user; nothing was changed",)
    )
