"""Surface sections: CLI, HTTP, HTML UI, notebook, exports (contract §9.6, §10)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal, get_args

from contexta.config import _specs as s

__all__ = [
    "CLIConfig",
    "ExportSurfaceConfig",
    "HTMLConfig",
    "HTTPConfig",
    "NotebookConfig",
    "SurfaceConfig",
    "OutputFormat",
    "Verbosity",
]

OutputFormat = Literal["text", "json"]
Verbosity = Literal["quiet", "normal", "debug", "forensic"]


@dataclass(frozen=True, slots=True)
class CLIConfig:
    """Command-line defaults.

    Attributes:
        default_output_format: ``text`` or ``json`` when ``--format`` is omitted.
        verbosity: ``quiet`` (no status lines), ``normal``, ``debug`` or
            ``forensic`` (tracebacks of errors on stderr).
        color: colour output, only when stdout is a terminal and ``NO_COLOR`` is unset.
    """

    _section: ClassVar[str] = "surfaces.cli"

    default_output_format: OutputFormat = field(
        default="text", metadata=s.choice(get_args(OutputFormat))
    )
    verbosity: Verbosity = field(default="normal", metadata=s.choice(get_args(Verbosity)))
    color: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class HTTPConfig:
    """Local HTTP server defaults.

    Attributes:
        host: default of ``serve http --host``.
        port: default of ``serve http --port`` (0 to 65535; 0 picks a free port).
        open_browser: open the UI in a browser after starting.
        enabled: compatibility only, no effect (``serve http`` always starts when asked).
    """

    _section: ClassVar[str] = "surfaces.http"

    host: str = field(default="127.0.0.1", metadata=s.text(rule="host"))
    port: int = field(default=8080, metadata=s.integer(ge=0, le=65535))
    open_browser: bool = field(default=False, metadata=s.flag())
    enabled: bool = field(default=False, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class HTMLConfig:
    """Web UI settings.

    Attributes:
        enabled: when false, ``/ui`` routes answer 404.
        inline_charts: UI pages embed SVG charts.
    """

    _section: ClassVar[str] = "surfaces.html"

    enabled: bool = field(default=True, metadata=s.flag())
    inline_charts: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class NotebookConfig:
    """Notebook surface settings.

    Attributes:
        enabled: compatibility only, no effect.
    """

    _section: ClassVar[str] = "surfaces.notebook"

    enabled: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class ExportSurfaceConfig:
    """CSV and HTML export settings.

    Attributes:
        csv_delimiter: one character separating CSV fields.
        html_inline_charts: embed charts in ``export html`` output.
        include_completeness_notes: include completeness notes in CSV/HTML exports.
    """

    _section: ClassVar[str] = "surfaces.export"

    csv_delimiter: str = field(default=",", metadata=s.text(rule="char"))
    html_inline_charts: bool = field(default=True, metadata=s.flag())
    include_completeness_notes: bool = field(default=True, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class SurfaceConfig:
    """Settings of the user-facing surfaces, one section each.

    Attributes:
        cli: ``CLIConfig``.
        http: ``HTTPConfig``.
        html: ``HTMLConfig``.
        notebook: ``NotebookConfig``.
        export: ``ExportSurfaceConfig``.
    """

    _section: ClassVar[str] = "surfaces"

    cli: CLIConfig = field(default_factory=CLIConfig, metadata=s.section(CLIConfig))
    http: HTTPConfig = field(default_factory=HTTPConfig, metadata=s.section(HTTPConfig))
    html: HTMLConfig = field(default_factory=HTMLConfig, metadata=s.section(HTMLConfig))
    notebook: NotebookConfig = field(
        default_factory=NotebookConfig, metadata=s.section(NotebookConfig)
    )
    export: ExportSurfaceConfig = field(
        default_factory=ExportSurfaceConfig, metadata=s.section(ExportSurfaceConfig)
    )

    def __post_init__(self) -> None:
        s.validate_fields(self)
