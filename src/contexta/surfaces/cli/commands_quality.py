"""``check`` (exit non-zero on findings, for schedulers) and ``summary`` (one line per run)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from contexta.errors import NotFoundError
from contexta.surfaces.cli.commands_runs import format_issue
from contexta.surfaces.cli.options import fail_on_option, severity_at_least
from contexta.surfaces.cli.output import echo, emit_json
from contexta.surfaces.cli.state import CliState, require_state

__all__ = ["register"]

_MAX_NULL_COLUMNS = 6


def _latest_run(state: CliState, project: str) -> Any:
    runs = state.contexta.list_runs(project, sort_desc=True, limit=1)
    if not runs:
        msg = f"project: {project!r} has no runs; check needs a run or a project with runs"
        raise NotFoundError(msg, code="query_run_not_found",
                            details={"field": "project", "value": project})
    return runs[0]


def _run_record(state: CliState, run_id: str) -> Any:
    from contexta.interpretation import RunListQuery

    found = state.contexta.list_runs(query=RunListQuery(run_ids=(run_id,)))
    return found[0] if found else None


@click.command("check")
@click.argument("run", required=False)
@click.option("--project", metavar="NAME",
              help="Check the latest run of this project (default: the configured project).")
@fail_on_option("warning", "Exit 1 when an issue is at or above this severity.")
def check_command(run: str | None, project: str | None, fail_on: str) -> int:
    """Evaluate a run (RUN, or the latest run of --project) and fail on issues.

    Without RUN or --project, the latest run of the configured project (like
    ``summary``). Exit 0 when no issue reaches --fail-on, 1 when one does, so a
    scheduler sees a pipeline that exited 0 but produced bad data; 1 also when the
    run or project is not found (the error line says which).
    """
    state = require_state()
    if run is None and project is None:
        project = state.contexta.project_name
    record = _latest_run(state, project) if run is None and project is not None else None
    result = state.contexta.diagnose_run(record.run_id if record is not None else run)
    if record is None:
        record = _run_record(state, result.run_id)
    failing = [issue for issue in result.issues if severity_at_least(issue.severity, fail_on)]
    if state.as_json:
        emit_json({"run": record, "fail_on": fail_on, "failed": bool(failing),
                   "issue_count": len(result.issues), "failing_issue_count": len(failing),
                   "diagnostics": result})
    else:
        name = record.name if record is not None else result.run_id
        status = record.status if record is not None else "unknown"
        echo(f"{name} ({result.run_id}) status={status}: {len(result.issues)} issue(s), "
             f"{len(failing)} at or above {fail_on}")
        for issue in result.issues:
            echo(format_issue(issue))
        echo("FAIL" if failing else "OK")
    return 1 if failing else 0


def _null_labels(rows: Sequence[Any]) -> list[str]:
    labels: list[str] = []
    for row in rows:
        labels += [label for label in row.null_rates if label not in labels]
    if len(labels) > _MAX_NULL_COLUMNS:
        labels = [label for label in labels if any(row.null_rates.get(label) for row in rows)]
    return labels


def _rows_text(rows: Any) -> str:
    if not rows:
        return "-"
    if len(rows) == 1:
        return f"{next(iter(rows.values())):g}"
    return "/".join(f"{name}:{value:g}" for name, value in rows.items())


def _summary_line(row: Any, labels: Sequence[str]) -> str:
    parts = [f"status={row.status}", f"rows={_rows_text(row.rows)}"]
    for label in labels:
        value = row.null_rates.get(label)
        parts.append(f"{label}={'-' if value is None else format(value, '.4f')}")
    parts.append("flags=" + (",".join(row.flags) if row.flags else "ok"))
    return f"{row.name}: " + ", ".join(parts)


@click.command("summary")
@click.option("--project", metavar="NAME",
              help="Project to summarize (default: the configured project_name).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the N most recent runs.")
def summary_command(project: str | None, limit: int | None) -> int:
    """One line per run, oldest first: status, rows, null rates, flags.

    Flags are the diagnostic codes at warning or above; "ok" when there are none.
    """
    from contexta.quality.summary import summarize_run

    state = require_state()
    ctx = state.contexta
    project_name = project or ctx.project_name
    runs = list(ctx.list_runs(project_name))
    if limit is not None:
        runs = runs[-limit:]
    rows = []
    for run in runs:
        snapshot = ctx.get_run_snapshot(run.run_id)
        diagnosis = ctx.diagnose_run(run.run_id)
        rows.append(summarize_run(run, snapshot.records, diagnosis.issues))
    if state.as_json:
        emit_json({"project": project_name, "runs": [
            {"run_id": row.run_id, "name": row.name, "status": row.status,
             "started_at": row.started_at, "rows": row.rows, "row_count": row.total_rows,
             "null_rates": row.null_rates, "flags": row.flags,
             "highest_severity": row.highest_severity}
            for row in rows]})
        return 0
    labels = _null_labels(rows)
    for row in rows:
        echo(_summary_line(row, labels))
    flagged = sum(1 for row in rows if row.flags)
    if rows:
        state.status(f"{len(rows)} run(s) of {project_name!r}, {flagged} flagged")
    else:
        state.status_no_runs(f"no runs of {project_name!r}")
    return 0


def register(root: click.Group) -> None:
    root.add_command(check_command, "check")
    root.add_command(summary_command, "summary")
