"""Store plane sections: metadata, records, artifacts (contract §2.4 to §2.6, §9.4).

These classes double as the plane-local configs of the store packages
(``contexta.store.records.StoreConfig`` is ``RecordStoreConfig``,
``contexta.store.artifacts.VaultConfig`` is ``ArtifactStoreConfig``). Paths left
``None`` here are filled in by ``UnifiedConfig`` from the workspace; a plane
config taken from a ``UnifiedConfig`` (``from_unified_config``) is therefore
always concrete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, get_args

from contexta.config import _specs as s
from contexta.errors import ConfigurationError, truncate_value

if TYPE_CHECKING:
    from contexta.config.unified import UnifiedConfig

__all__ = [
    "ArtifactStoreConfig",
    "MetadataStoreConfig",
    "RecordStoreConfig",
    "DurabilityModeName",
    "IngestModeName",
    "StorageAdapter",
    "VerificationModeName",
]

StorageAdapter = Literal["sqlite", "postgresql"]
_ADAPTER_INPUTS = (*get_args(StorageAdapter), "duckdb")
DurabilityModeName = Literal["flush", "fsync"]
LayoutModeName = Literal["jsonl_segments"]
IngestModeName = Literal["copy", "move", "adopt"]
VerificationModeName = Literal["none", "stored", "manifest_if_available", "strict"]

_POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg")
_URL_ALLOWED = "a URL starting with postgresql://, postgresql+psycopg:// or sqlite:///<path>"


class _PlaneConfig:
    """Constructors and export shared by the three plane configs."""

    __slots__ = ()
    _section: ClassVar[str]

    @classmethod
    def from_unified_config(cls, config: UnifiedConfig) -> Self:
        """Return the resolved plane config held by a ``UnifiedConfig``."""
        from contexta.config.unified import UnifiedConfig

        if isinstance(config, cls):
            return config
        if not isinstance(config, UnifiedConfig):
            msg = (
                f"{cls.__name__}.from_unified_config expects a UnifiedConfig; "
                f"got {truncate_value(config)}"
            )
            raise ConfigurationError(msg, details={"field": "config", "allowed": "UnifiedConfig"})
        plane: Self = getattr(config, cls._section)
        return plane

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> Self:
        """Build from a mapping of this plane's fields; unknown keys are refused."""
        from contexta.config.mapping import build_section

        return build_section(cls, m, source=f"{cls.__name__}.from_mapping")

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping of the fields, paths as strings; inverse of ``from_mapping``."""
        plain: dict[str, Any] = s.to_plain(self)
        return plain


def _url_backend(url: str) -> tuple[str, str | None]:
    """Return (adapter, sqlite database path or None) selected by a database URL."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if sep and scheme in _POSTGRES_SCHEMES and rest:
        return "postgresql", None
    if sep and scheme == "sqlite":
        rest = rest.split("?", 1)[0]
        if rest in ("", "/", f"/{s.MEMORY_DATABASE}"):
            return "sqlite", s.MEMORY_DATABASE
        if rest.startswith("/") and len(rest) > 1:
            return "sqlite", str(s.coerce(s.Spec("path"), rest[1:], "metadata.database_url"))
    err = s.config_error("metadata.database_url", url, _URL_ALLOWED, secret=True)
    raise err


@dataclass(frozen=True, slots=True)
class MetadataStoreConfig(_PlaneConfig):
    """Metadata plane: which database holds projects, runs, stages and the rest.

    Attributes:
        storage_adapter: ``sqlite`` (embedded, the default) or ``postgresql``;
            ``duckdb`` is accepted as an alias of the embedded default and
            normalized to ``sqlite``. Left ``None`` it follows ``database_url``
            (else ``sqlite``); an explicit value conflicting with the URL raises.
        database_path: embedded database file, or ``":memory:"`` for a private
            in-memory store; ``None`` means ``<workspace.metadata_path>/contexta.sqlite3``.
        database_url: when set, its scheme selects the backend
            (``postgresql://user@host:5432/db``, ``postgresql+psycopg://…`` or
            ``sqlite:///path/file.db``); required for ``postgresql``.
        auto_create: when false, a missing database raises ``StoreAccessError``
            (``store_missing``).
        read_only: open without creating anything; writes raise ``ReadOnlyStoreError``.
        auto_migrate: migrate older schemas on open.
    """

    _section: ClassVar[str] = "metadata"

    storage_adapter: StorageAdapter | None = field(
        default=None, metadata=s.choice(_ADAPTER_INPUTS, optional=True)
    )
    database_path: Path | str | None = field(default=None, metadata=s.path(allow_memory=True))
    database_url: str | None = field(default=None, metadata=s.optional_text(secret=True))
    auto_create: bool = field(default=True, metadata=s.flag())
    read_only: bool = field(default=False, metadata=s.flag())
    auto_migrate: bool = field(default=False, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)
        given: str | None = self.storage_adapter  # may still be the "duckdb" alias here
        adapter = "sqlite" if given == "duckdb" else given
        url = self.database_url
        if url is None:
            if adapter == "postgresql":
                err = s.config_error(
                    "metadata.database_url",
                    None,
                    _URL_ALLOWED,
                    reason="storage_adapter 'postgresql' needs a database_url",
                )
                raise err
            adapter = adapter or "sqlite"
        else:
            backend, url_path = _url_backend(url)
            if adapter is not None and adapter != backend:
                err = s.config_error(
                    "metadata.storage_adapter",
                    self.storage_adapter,
                    f"{backend!r} (selected by metadata.database_url) or null",
                    reason=f"conflicts with database_url {s.mask_url(url)!r}",
                )
                raise err
            adapter = backend
            if url_path is not None:
                explicit = self.database_path
                if explicit is not None and str(explicit) != url_path:
                    err = s.config_error(
                        "metadata.database_path",
                        str(explicit),
                        f"{url_path!r} or null",
                        reason="conflicts with the path in database_url",
                    )
                    raise err
                memory = url_path == s.MEMORY_DATABASE
                object.__setattr__(self, "database_path", url_path if memory else Path(url_path))
                object.__setattr__(self, "database_url", f"sqlite:///{url_path}")
        object.__setattr__(self, "storage_adapter", adapter)


@dataclass(frozen=True, slots=True)
class RecordStoreConfig(_PlaneConfig):
    """Record plane: events, metrics, spans and degraded markers.

    Attributes:
        root_path: directory for record-plane files; ``None`` means
            ``workspace.records_path``.
        max_segment_bytes: validated > 0; compatibility only, no effect (the
            storage layout is internal).
        durability_mode: ``flush`` (survives a killed process) or ``fsync`` (also
            survives power loss); applies to all three planes.
        layout_mode: ``jsonl_segments`` only; compatibility only, no effect.
        layout_version: compatibility only, no effect.
        enable_indexes: compatibility only, no effect (lookups are always indexed).
        read_only: open without creating anything; writes raise ``ReadOnlyStoreError``.
    """

    _section: ClassVar[str] = "records"

    root_path: Path | None = field(default=None, metadata=s.path())
    max_segment_bytes: int = field(default=1_048_576, metadata=s.integer(ge=1))
    durability_mode: DurabilityModeName = field(
        default="flush", metadata=s.choice(get_args(DurabilityModeName))
    )
    layout_mode: LayoutModeName = field(
        default="jsonl_segments", metadata=s.choice(get_args(LayoutModeName))
    )
    layout_version: str = field(default="1", metadata=s.text())
    enable_indexes: bool = field(default=True, metadata=s.flag())
    read_only: bool = field(default=False, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)


@dataclass(frozen=True, slots=True)
class ArtifactStoreConfig(_PlaneConfig):
    """Artifact plane: file bodies and their bindings.

    Attributes:
        root_path: artifact vault directory; ``None`` means ``workspace.artifacts_path``.
        default_ingest_mode: ``copy``, ``move`` or ``adopt`` when ``put_artifact``
            gets no ``mode``.
        verification_mode: ``none`` (no claim checks), ``stored`` (re-hash after
            writing), ``manifest_if_available`` (check the claims the manifest
            makes) or ``strict`` (manifest must state size and hash, both must match).
        create_missing_dirs: create a missing artifact root instead of raising.
        layout_version: compatibility only, no effect.
        chunk_size_bytes: read/hash chunk size (> 0).
        read_only: open without creating anything; writes raise ``ReadOnlyStoreError``.
    """

    _section: ClassVar[str] = "artifacts"

    root_path: Path | None = field(default=None, metadata=s.path())
    default_ingest_mode: IngestModeName = field(
        default="copy", metadata=s.choice(get_args(IngestModeName))
    )
    verification_mode: VerificationModeName = field(
        default="manifest_if_available", metadata=s.choice(get_args(VerificationModeName))
    )
    create_missing_dirs: bool = field(default=True, metadata=s.flag())
    layout_version: str = field(default="v1", metadata=s.text())
    chunk_size_bytes: int = field(default=1_048_576, metadata=s.integer(ge=1))
    read_only: bool = field(default=False, metadata=s.flag())

    def __post_init__(self) -> None:
        s.validate_fields(self)
