"""The ``Contexta`` facade: wires configuration, stores, capture and services.

It holds no logic of its own (architecture.md §2): every method resolves the
right collaborator once, lazily, and delegates. Stores open on first use, so
constructing a ``Contexta`` only resolves configuration.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from contexta.config import UnifiedConfig, load_config
from contexta.errors import ConfigurationError, StoreAccessError

if TYPE_CHECKING:
    from contexta.store.artifacts import ArtifactStore
    from contexta.store.metadata import MetadataStore
    from contexta.store.records import RecordStore

__all__ = ["Contexta"]


class Contexta:
    """Entry point: ``with Contexta() as ctx: ...`` (contract.md §5)."""

    def __init__(
        self,
        *,
        workspace: str | PathLike[str] | None = None,
        profile: str | None = None,
        config: UnifiedConfig | Mapping[str, object] | None = None,
        sinks: Sequence[Any] | None = None,
    ) -> None:
        if isinstance(config, UnifiedConfig):
            if workspace is not None or profile is not None:
                msg = (
                    "config: a ready-made UnifiedConfig is used exactly as given; pass workspace "
                    "and profile inside it instead of as separate arguments"
                )
                raise ConfigurationError(
                    msg,
                    code="config_conflicting_inputs",
                    details={
                        "field": "config",
                        "allowed": "UnifiedConfig alone, or a mapping with workspace/profile",
                    },
                )
            resolved = config
        else:
            resolved = load_config(profile=profile, config=config, workspace=workspace)
        self.config: UnifiedConfig = resolved
        self.profile: str = resolved.profile_name
        self.project_name: str = resolved.project_name
        self.workspace: str = str(Path(resolved.workspace.root_path).resolve())
        self.sinks: tuple[Any, ...] = tuple(sinks or ())
        self._lock = threading.RLock()
        self._metadata: MetadataStore | None = None
        self._records: RecordStore | None = None
        self._artifacts: ArtifactStore | None = None
        self._services: dict[str, Any] = {}

    @classmethod
    def open(
        cls,
        *,
        workspace: str | PathLike[str] | None = None,
        profile: str | None = None,
        config: UnifiedConfig | Mapping[str, object] | None = None,
        sinks: Sequence[Any] | None = None,
    ) -> Self:
        return cls(workspace=workspace, profile=profile, config=config, sinks=sinks)

    # -- stores ------------------------------------------------------------------
    def _check_root(self) -> None:
        """Refuse a root that cannot be a workspace before any store looks inside it."""
        from contexta.store.workspace import check_root_is_a_folder

        root = Path(self.config.workspace.root_path)
        check_root_is_a_folder(root)
        if not self.config.workspace.create_missing_dirs and not root.exists():
            msg = f"workspace {root} does not exist and workspace.create_missing_dirs is False"
            raise StoreAccessError(msg, code="store_missing", details={"path": str(root)})

    @property
    def metadata_store(self) -> MetadataStore:
        with self._lock:
            if self._metadata is None:
                from contexta.store.metadata import MetadataStore

                self._check_root()
                self._metadata = MetadataStore(
                    self.config.metadata, durability=self.config.records.durability_mode
                )
            return self._metadata

    @property
    def record_store(self) -> RecordStore:
        with self._lock:
            if self._records is None:
                from contexta.store.records import RecordStore

                self._records = RecordStore(self.config.records, metadata_store=self.metadata_store)
            return self._records

    @property
    def artifact_store(self) -> ArtifactStore:
        with self._lock:
            if self._artifacts is None:
                from contexta.store.artifacts import ArtifactStore

                self._artifacts = ArtifactStore(
                    self.config.artifacts, metadata_store=self.metadata_store
                )
            return self._artifacts

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        """Close open capture scopes as failed, flush sinks, close the stores. Idempotent."""
        session = self._services.get("session")
        if session is not None:
            session.close_open_scopes(status="failed")
        for sink in self.sinks:
            flush = getattr(sink, "flush", None)
            if callable(flush):
                flush()
        with self._lock:
            if self._records is not None:
                self._records.close()
            if self._artifacts is not None:
                self._artifacts.close()
            if self._metadata is not None:
                self._metadata.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Contexta(workspace={self.workspace!r}, project_name={self.project_name!r})"

    # -- collaborators (built lazily, once) ----------------------------------------------
    def _service(self, name: str, build: Any) -> Any:
        with self._lock:
            service = self._services.get(name)
            if service is None:
                service = build()
                self._services[name] = service
            return service

    @property
    def session(self) -> Any:
        from contexta.capture import RuntimeSession

        return self._service("session", lambda: RuntimeSession(self))

    @property
    def repository(self) -> Any:
        from contexta.interpretation import CompositeStoreRepository

        return self._service(
            "repository",
            lambda: CompositeStoreRepository(
                self.metadata_store, self.record_store, self.artifact_store
            ),
        )

    @property
    def query_service(self) -> Any:
        from contexta.interpretation import QueryService

        return self._service(
            "query", lambda: QueryService(self.repository, config=self.config.interpretation)
        )

    @property
    def diagnostics_service(self) -> Any:
        from contexta.interpretation import DiagnosticsService

        return self._service(
            "diagnostics",
            lambda: DiagnosticsService(self.query_service, config=self.config.interpretation),
        )

    @property
    def trend_service(self) -> Any:
        from contexta.interpretation import TrendService

        return self._service(
            "trend", lambda: TrendService(self.query_service, config=self.config.interpretation)
        )

    @property
    def anomaly_service(self) -> Any:
        from contexta.interpretation import AnomalyService

        return self._service(
            "anomaly",
            lambda: AnomalyService.from_config(self.query_service, self.config.interpretation),
        )

    @property
    def provenance_service(self) -> Any:
        from contexta.interpretation import ProvenanceService

        return self._service("provenance", lambda: ProvenanceService(self.query_service))

    # -- capture (contract.md §8) -------------------------------------------------------------
    def run(self, name: str, **options: Any) -> Any:
        return self.session.run(name, **options)

    def deployment(self, name: str, **options: Any) -> Any:
        return self.session.deployment(name, **options)

    def current_run(self) -> Any:
        return self.session.current_run()

    def current_stage(self) -> Any:
        return self.session.current_stage()

    def current_batch(self) -> Any:
        return self.session.current_batch()

    def current_operation(self) -> Any:
        return self.session.current_operation()

    def current_sample(self) -> Any:
        return self.session.current_sample()

    def current_deployment(self) -> Any:
        return self.session.current_deployment()

    def event(self, key: str, **options: Any) -> Any:
        return self.session.event(key, **options)

    def metric(self, key: str, value: Any, **options: Any) -> Any:
        return self.session.metric(key, value, **options)

    def span(self, name: str, **options: Any) -> Any:
        return self.session.span(name, **options)

    def register_artifact(self, artifact_kind: str, path: Any, **options: Any) -> Any:
        return self.session.register_artifact(artifact_kind, path, **options)

    def emit_events(self, items: Any) -> Any:
        return self.session.emit_events(items)

    def emit_metrics(self, items: Any) -> Any:
        return self.session.emit_metrics(items)

    def emit_spans(self, items: Any) -> Any:
        return self.session.emit_spans(items)

    def register_artifacts(self, items: Any) -> Any:
        return self.session.register_artifacts(items)

    # -- reads (contract.md §5.4) ------------------------------------------------------------
    def list_projects(self) -> tuple[str, ...]:
        return self.query_service.list_projects()  # type: ignore[no-any-return]

    def list_runs(self, project_name: str | None = None, **filters: Any) -> tuple[Any, ...]:
        return self.query_service.list_runs(project_name, **filters)  # type: ignore[no-any-return]

    def list_deployments(
        self, project_name: str | None = None, run_id: Any = None
    ) -> tuple[Any, ...]:
        return self.query_service.list_deployments(project_name, run_id)  # type: ignore[no-any-return]

    def list_batches(self, run_id: Any, stage_id: Any = None) -> tuple[Any, ...]:
        return self.query_service.list_batches(run_id, stage_id)  # type: ignore[no-any-return]

    def list_samples(
        self, run_id: Any, stage_id: Any = None, batch_id: Any = None
    ) -> tuple[Any, ...]:
        return self.query_service.list_samples(run_id, stage_id, batch_id)  # type: ignore[no-any-return]

    def get_run_snapshot(self, run_id: Any) -> Any:
        return self.query_service.get_run_snapshot(run_id)

    def get_provenance(self, run_id: Any) -> Any:
        return self.query_service.get_provenance(run_id)

    def diagnose_run(self, run_id: Any) -> Any:
        return self.diagnostics_service.diagnose_run(run_id)

    def detect_anomalies(self, run_id: Any, **options: Any) -> tuple[Any, ...]:
        return self.anomaly_service.detect_anomalies_in_run(run_id, **options)  # type: ignore[no-any-return]

    def get_metric_trend(self, metric_key: str, **options: Any) -> Any:
        return self.trend_service.get_metric_trend(metric_key, **options)

    def get_step_series(self, run_id: Any, metric_key: str, **options: Any) -> Any:
        return self.trend_service.get_step_series(run_id, metric_key, **options)

    def get_stage_duration_trend(self, stage_name: str, **options: Any) -> Any:
        return self.trend_service.get_stage_duration_trend(stage_name, **options)

    def get_artifact_size_trend(self, artifact_kind: str, **options: Any) -> Any:
        return self.trend_service.get_artifact_size_trend(artifact_kind, **options)

    def get_artifact_origin(self, artifact_ref: Any) -> Any:
        return self.query_service.get_artifact_origin(artifact_ref)

    def audit_reproducibility(self, run_id: Any) -> Any:
        return self.provenance_service.audit_reproducibility(run_id)

    def compare_environments(self, left_run_id: Any, right_run_id: Any) -> Any:
        return self.provenance_service.compare_environments(left_run_id, right_run_id)
