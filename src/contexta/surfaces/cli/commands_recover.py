"""``recover outbox`` and ``recover replay``: get spooled captures home, check the record plane.

``recover outbox`` is how captures spooled while the stores could not be written
(disk full, read-only workspace; contract §8.5) reach the workspace once they
can (§11.4). ``recover replay`` reads the record plane back with its integrity
state (§4.4, §10.2), so a scheduler can tell a damaged store from a healthy one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import click

from contexta.surfaces.cli.output import echo, emit_json
from contexta.surfaces.cli.state import CliState, require_state

__all__ = ["register"]

_RECORD_TYPES = ("event", "metric", "span", "degraded")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@click.command("outbox")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Replay at most N entries this time (the rest stay pending).")
@click.option("--dead-letter-after", type=click.IntRange(min=1), metavar="N",
              help="Move an entry aside to the dead-letter file once it has failed N times.")
def outbox_command(limit: int | None, dead_letter_after: int | None) -> int:
    """Store the captures spooled to the outbox while the stores could not be written.

    Exit 0 when nothing is left pending, 1 when entries remain pending, failed or
    were dead-lettered. Replaying twice stores nothing twice.
    """
    from contexta.recovery import replay_outbox

    state = require_state()
    result = replay_outbox(state.config, limit=limit,
                           dead_letter_after_failures=dead_letter_after)
    if state.as_json:
        emit_json(result)
    else:
        echo(f"{result.status}: {result.acknowledged_count} replayed, "
             f"{result.pending_count} pending, {result.dead_lettered_count} dead-lettered")
        for entry in result.entries:
            if entry.status != "SUCCESS":
                echo(f"  {entry.status:<13} {entry.replay_ref} ({entry.family}, "
                     f"attempt {entry.attempts}): {_one_line(entry.detail)}")
        for warning in result.warnings:
            echo(f"  WARNING {warning}")
        if not result.entries and not result.pending_count:
            state.status("nothing to replay: the outbox is empty")
        elif result.details and "outbox_root" in result.details:
            state.status(f"outbox: {result.details['outbox_root']}")
    return 0 if result.status == "SUCCESS" else 1


def _scan_filter(state: CliState, run: str | None, stage: str | None,
                 record_type: str | None) -> Any:
    """Resolve ``--run``/``--stage`` like every other command (contract §5.3)."""
    from contexta.store.records import ScanFilter

    run_ref = stage_ref = None
    if run is not None:
        run_ref = state.contexta.query_service.get_run(run).run_id
    if stage is not None and run_ref is not None:
        from contexta.interpret.resolve import resolve_stage

        stages = state.contexta.query_service.list_stages(run_ref)
        stage_ref = resolve_stage(stages, stage, run_ref).stage_id
    elif stage is not None:
        if ":" not in stage:  # a name or suffix means nothing without its run
            msg = f"--stage {stage!r} needs --run RUN, or give a full stage ref (stage:...)"
            raise click.UsageError(msg)
        stage_ref = stage
    return ScanFilter(run_ref=run_ref, stage_execution_ref=stage_ref, record_type=record_type)


@click.command("replay")
@click.option("--mode", type=click.Choice(["strict", "tolerant"]),
              help="strict fails on any damage; tolerant reads what it can "
                   "(default: recovery.replay_mode_default).")
@click.option("--run", metavar="RUN", help="Only records of this run (any run identifier).")
@click.option("--stage", metavar="STAGE",
              help="Only records of this stage (name or ref with --run; a stage ref without).")
@click.option("--record-type", type=click.Choice(_RECORD_TYPES), help="Only this record type.")
def replay_command(mode: str | None, run: str | None, stage: str | None,
                   record_type: str | None) -> int:
    """Read the stored records back and report counts and known gaps.

    Exit 1 in strict mode when the store has unreadable or conflicting data
    (record_replay_unhealthy_store); tolerant mode reports the gaps and exits 0.
    """
    state = require_state()
    chosen = mode or str(state.config.recovery.replay_mode_default)
    scan_filter = _scan_filter(state, run, stage, record_type)
    result = state.contexta.record_store.replay(scan_filter, mode=chosen)
    if state.as_json:
        emit_json(result)
        return 0
    by_type = Counter(stored.record_type for stored in result.records)
    kinds = ", ".join(f"{by_type[name]} {name}" for name in _RECORD_TYPES if by_type[name])
    echo(f"{result.record_count} record(s){f' ({kinds})' if kinds else ''}; "
         f"mode {result.mode}, integrity {result.integrity_state}, "
         f"{len(result.known_gaps)} known gap(s)")
    for gap in result.known_gaps:
        echo(f"  GAP {gap.code}: {_one_line(gap.message)}")
    return 0


def register(recover_group: click.Group) -> None:
    recover_group.add_command(outbox_command, "outbox")
    recover_group.add_command(replay_command, "replay")
