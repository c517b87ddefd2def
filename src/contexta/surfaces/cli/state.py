"""What the global options resolve to, shared by every command.

The ``Contexta`` is built on first use, so ``--help`` and usage errors never
touch the workspace, and closed once when the program ends.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from contexta.errors import ConfigurationError, ContextaError, truncate_value

__all__ = ["CliState", "parse_overrides", "require_state"]

logger = logging.getLogger(__name__)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["a.b=1", "a.c=x"]`` → ``{"a": {"b": 1, "c": "x"}}`` (values JSON when they parse)."""
    patch: dict[str, Any] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        parts = path.strip().split(".")
        if not sep or not all(part.strip() for part in parts):
            msg = f"--set: {truncate_value(item)} is not KEY.PATH=VALUE"
            raise click.BadParameter(msg, param_hint="--set")
        node = patch
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                msg = f"--set: {path!r} conflicts with an earlier --set of {part!r}"
                raise click.BadParameter(msg, param_hint="--set")
            node = child
        node[parts[-1]] = _parse_value(raw)
    return patch


@dataclass
class CliState:
    """Global options, the resolved configuration and the lazily opened facade."""

    workspace: str | None = None
    profile: str | None = None
    config_file: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    output_format: str | None = None
    quiet: bool = False
    _config: Any = None
    _contexta: Any = None

    @property
    def config(self) -> Any:
        if self._config is None:
            from contexta.config import load_config

            self._config = load_config(profile=self.profile, config_file=self.config_file,
                                       config=self.overrides or None, workspace=self.workspace)
        return self._config

    @property
    def contexta(self) -> Any:
        if self._contexta is None:
            from contexta.api import Contexta

            self._contexta = Contexta(config=self.config)
        return self._contexta

    def _cli_setting(self, name: str, default: str) -> str:
        try:
            return str(getattr(self.config.surfaces.cli, name))
        except ContextaError:
            return default
        except AttributeError:  # a config without the surfaces section
            return default

    @property
    def as_json(self) -> bool:
        if self.output_format is not None:
            return self.output_format == "json"
        return self._cli_setting("default_output_format", "text") == "json"

    @property
    def verbosity(self) -> str:
        return self._cli_setting("verbosity", "normal")

    @property
    def show_status(self) -> bool:
        return not self.quiet and self.verbosity != "quiet"

    @property
    def show_tracebacks(self) -> bool:
        return self.verbosity in ("debug", "forensic")

    def status(self, text: str) -> None:
        """A status line on stderr, unless quieted."""
        if self.show_status:
            from contexta.surfaces.cli.output import echo

            echo(text, err=True)

    def status_no_runs(self, text: str) -> None:
        """The "nothing found" status line, saying so when the workspace does not exist
        (a mistyped ``--workspace`` must not look like an empty project)."""
        from pathlib import Path

        root = Path(self.config.workspace.root_path)
        if not root.exists():
            text = f"{text}: workspace {root} does not exist"
        self.status(text)

    def close(self) -> None:
        if self._contexta is not None:
            contexta, self._contexta = self._contexta, None
            try:
                contexta.close()
            except ContextaError as exc:
                logger.warning("closing the workspace failed: %s", exc)


def require_state() -> CliState:
    """The ``CliState`` of the running command."""
    state = click.get_current_context().find_object(CliState)
    if state is None:  # pragma: no cover - the root group always installs one
        msg = "the CLI state is missing; call commands through contexta.surfaces.cli.main"
        raise ConfigurationError(msg)
    return state
