"""Flags shared by several commands, each defined once (style.md "CLI: click")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["SEVERITIES", "fail_on_option", "run_list_options", "severity_at_least"]

F = TypeVar("F", bound=Callable[..., Any])

SEVERITIES = ("info", "warning", "error")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def severity_at_least(severity: str, threshold: str) -> bool:
    """``severity`` is at or above ``threshold`` (unknown severities never are)."""
    return _RANK.get(severity, -1) >= _RANK[threshold]


def run_list_options(func: F) -> F:
    """``--project --status --after --before --limit --offset --sort --desc``."""
    decorators = [
        click.option("--project", metavar="NAME", help="Project name (all projects by default)."),
        click.option("--status", type=click.Choice(["open", "completed", "failed", "cancelled"]),
                     help="Only runs with this status."),
        click.option("--after", metavar="TS", help="Runs started at or after this timestamp."),
        click.option("--before", metavar="TS", help="Runs started at or before this timestamp."),
        click.option("--limit", type=click.IntRange(min=1), help="At most N runs."),
        click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Skip the first N runs."),
        click.option("--sort", type=click.Choice(["started_at", "ended_at", "name"]),
                     default="started_at", show_default=True, help="Sort key."),
        click.option("--desc", is_flag=True, help="Newest (or last) first."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def fail_on_option(default: str | None, help_text: str) -> Callable[[F], F]:
    """``--fail-on info|warning|error``."""
    return click.option("--fail-on", type=click.Choice(SEVERITIES), default=default,
                        show_default=default is not None, help=help_text)
