"""The root command group, its global options, and the one place errors become exit codes.

click runs with ``standalone_mode=False`` so that ``main`` sees every outcome:
a command's return value is its exit code, ``ContextaError`` → 1 with
``ERROR [code]: message``, usage errors → 2, Ctrl-C → 130 (contract §10.1).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click

from contexta.errors import ContextaError
from contexta.surfaces.cli.output import echo, emit_error, to_json_value
from contexta.surfaces.cli.state import CliState, parse_overrides

__all__ = ["cli", "main"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--workspace", metavar="PATH",
              help="Workspace root (default: from config, .contexta).")
@click.option("--profile", type=click.Choice(["local", "test"]), help="Configuration profile.")
@click.option("--config", "config_file", metavar="FILE", help=".toml or .json config file.")
@click.option("--set", "overrides", metavar="KEY.PATH=VALUE", multiple=True,
              help="Config override, repeatable; VALUE is parsed as JSON when it can be.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]),
              help="Output format (default: surfaces.cli.default_output_format).")
@click.option("--quiet", is_flag=True, help="No status lines; results are still printed.")
@click.version_option(package_name="contexta", prog_name="contexta")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, profile: str | None, config_file: str | None,
        overrides: tuple[str, ...], output_format: str | None, quiet: bool) -> None:
    """Contexta: query, check and summarize what your pipelines recorded."""
    state = ctx.ensure_object(CliState)
    state.workspace = workspace
    state.profile = profile
    state.config_file = config_file
    state.overrides = parse_overrides(overrides)
    state.output_format = output_format
    state.quiet = quiet


@cli.group("run")
def run_group() -> None:
    """Run-level commands (aliases: runs, diagnostics)."""


@cli.group("recover")
def recover_group() -> None:
    """Put spooled captures into the stores; replay the record plane."""


def _register_commands() -> None:
    from contexta.surfaces.cli import commands_quality, commands_recover, commands_runs

    commands_runs.register(cli, run_group)
    commands_quality.register(cli)
    commands_recover.register(recover_group)


_register_commands()


def _json_requested(argv: Sequence[str]) -> bool:
    """``--format json`` seen before parsing finished (for errors raised while parsing)."""
    for index, arg in enumerate(argv):
        if arg == "--format=json" or (arg == "--format" and argv[index + 1:index + 2] == ["json"]):
            return True
    return False


def _as_json(state: CliState, argv: Sequence[str]) -> bool:
    if state.output_format is None and _json_requested(argv):
        return True
    try:
        return state.as_json
    except Exception:  # choosing the error format must never fail
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script passes it to ``sys.exit``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    state = CliState()
    try:
        result = cli.main(args=args, prog_name="contexta", standalone_mode=False, obj=state)
        return result if isinstance(result, int) else EXIT_OK
    except click.exceptions.Abort:
        emit_error("interrupted", "interrupted", as_json=_as_json(state, args))
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        emit_error("interrupted", "interrupted", as_json=_as_json(state, args))
        return EXIT_INTERRUPTED
    except click.UsageError as exc:
        emit_error("usage_error", exc.format_message(), as_json=_as_json(state, args))
        return EXIT_USAGE
    except click.ClickException as exc:
        emit_error("cli_error", exc.format_message(), as_json=_as_json(state, args))
        return exc.exit_code or EXIT_FAILURE
    except ContextaError as exc:
        details = to_json_value(dict(exc.details)) if exc.details is not None else None
        emit_error(exc.code, exc.message, details, as_json=_as_json(state, args))
        if state.show_tracebacks:
            echo("".join(traceback.format_exception(exc)), err=True)
        return EXIT_FAILURE
    except BrokenPipeError:  # stdout closed early (``| head``): nothing more to say
        return EXIT_FAILURE
    except Exception as exc:  # the one place every failure becomes an exit code
        emit_error("internal_error", f"{type(exc).__name__}: {exc}", as_json=_as_json(state, args))
        if state.show_tracebacks:
            echo("".join(traceback.format_exception(exc)), err=True)
        return EXIT_FAILURE
    finally:
        state.close()
