"""``runs`` (= ``run list``) and ``diagnostics`` (= ``run diagnose``): thin facade calls."""

from __future__ import annotations

from typing import Any

import click

from contexta.surfaces.cli.options import fail_on_option, run_list_options, severity_at_least
from contexta.surfaces.cli.output import echo, emit_json
from contexta.surfaces.cli.state import require_state

__all__ = ["format_issue", "register"]


def _time_range(after: str | None, before: str | None) -> Any:
    if after is None and before is None:
        return None
    from contexta.interpretation import TimeRange

    return TimeRange(started_after=after, started_before=before)


@click.command("runs")
@run_list_options
def runs_command(project: str | None, status: str | None, after: str | None, before: str | None,
                 limit: int | None, offset: int, sort: str, desc: bool) -> int:
    """List runs, oldest first unless --desc."""
    state = require_state()
    runs = state.contexta.list_runs(project, status=status, time_range=_time_range(after, before),
                                    limit=limit, offset=offset, sort_by=sort, sort_desc=desc)
    if state.as_json:
        emit_json({"runs": runs})
        return 0
    if not runs:
        state.status_no_runs("no runs")
        return 0
    echo(f"{'NAME':<28} {'STATUS':<10} {'STARTED':<28} RUN_ID")
    for run in runs:
        echo(f"{run.name:<28} {run.status:<10} {run.started_at or '-':<28} {run.run_id}")
    state.status(f"{len(runs)} run(s)")
    return 0


def format_issue(issue: Any) -> str:
    subject = f" {issue.subject_ref}" if getattr(issue, "subject_ref", None) else ""
    return f"  {issue.severity.upper():<8} {issue.code}{subject}: {issue.summary}"


@click.command("diagnostics")
@click.argument("run")
@fail_on_option(None, "Exit 1 when an issue is at or above this severity (default: never).")
def diagnostics_command(run: str, fail_on: str | None) -> int:
    """Diagnose one run (any run identifier form)."""
    state = require_state()
    result = state.contexta.diagnose_run(run)
    failing = [] if fail_on is None else [
        issue for issue in result.issues if severity_at_least(issue.severity, fail_on)]
    if state.as_json:
        emit_json(result)
    else:
        echo(f"{result.run_id}: {len(result.issues)} issue(s)")
        for issue in result.issues:
            echo(format_issue(issue))
    if fail_on is not None:
        state.status(f"{len(failing)} issue(s) at or above {fail_on}")
    return 1 if failing else 0


def register(root: click.Group, run_group: click.Group) -> None:
    """Each alias is the same command registered twice."""
    root.add_command(runs_command, "runs")
    run_group.add_command(runs_command, "list")
    root.add_command(diagnostics_command, "diagnostics")
    run_group.add_command(diagnostics_command, "diagnose")
