"""Construction-time validation: every bad value names its field, the value and what is allowed."""

from __future__ import annotations

import enum
import math
from pathlib import Path
from typing import Any

import pytest

from contexta.config import (
    AlertPolicy,
    AnomalyPolicy,
    ArtifactStoreConfig,
    CaptureConfig,
    CLIConfig,
    ComparisonPolicy,
    ContractConfig,
    DiagnosticsPolicy,
    ExportSurfaceConfig,
    HTTPConfig,
    MetadataStoreConfig,
    RecordStoreConfig,
    RecoveryConfig,
    ReportPolicy,
    RetentionConfig,
    SearchPolicy,
    SecurityConfig,
    TrendPolicy,
    UnifiedConfig,
    WorkspaceConfig,
    build_unified_config,
)
from contexta.errors import ConfigurationError

BAD_VALUES: list[tuple[type, str, Any, str]] = [
    (UnifiedConfig, "config_version", "2", "config_version"),
    (UnifiedConfig, "profile_name", "prod", "profile_name"),
    (UnifiedConfig, "project_name", "   ", "project_name"),
    (UnifiedConfig, "project_name", "a\nb", "project_name"),
    (UnifiedConfig, "project_name", "x" * 513, "project_name"),
    (UnifiedConfig, "workspace", "not-a-config", "workspace"),
    (WorkspaceConfig, "root_path", "", "workspace.root_path"),
    (WorkspaceConfig, "root_path", 3, "workspace.root_path"),
    (WorkspaceConfig, "create_missing_dirs", "yes", "workspace.create_missing_dirs"),
    (ContractConfig, "schema_version", "2.0.0", "contract.schema_version"),
    (ContractConfig, "validation_mode", "loose", "contract.validation_mode"),
    (CaptureConfig, "producer_ref", "a b", "capture.producer_ref"),
    (CaptureConfig, "producer_ref", "a..b", "capture.producer_ref"),
    (CaptureConfig, "retry_attempts", -1, "capture.retry_attempts"),
    (CaptureConfig, "retry_attempts", True, "capture.retry_attempts"),
    (CaptureConfig, "retry_attempts", 1.5, "capture.retry_attempts"),
    (CaptureConfig, "retry_backoff_seconds", -0.1, "capture.retry_backoff_seconds"),
    (CaptureConfig, "retry_backoff_seconds", math.inf, "capture.retry_backoff_seconds"),
    (CaptureConfig, "dispatch_failure_mode", "ignore", "capture.dispatch_failure_mode"),
    (MetadataStoreConfig, "storage_adapter", "mysql", "metadata.storage_adapter"),
    (MetadataStoreConfig, "database_url", "mysql://x/y", "metadata.database_url"),
    (MetadataStoreConfig, "database_url", "", "metadata.database_url"),
    (RecordStoreConfig, "durability_mode", "sometimes", "records.durability_mode"),
    (RecordStoreConfig, "max_segment_bytes", 0, "records.max_segment_bytes"),
    (RecordStoreConfig, "layout_mode", "parquet", "records.layout_mode"),
    (ArtifactStoreConfig, "default_ingest_mode", "link", "artifacts.default_ingest_mode"),
    (ArtifactStoreConfig, "verification_mode", "paranoid", "artifacts.verification_mode"),
    (ArtifactStoreConfig, "chunk_size_bytes", 0, "artifacts.chunk_size_bytes"),
    (ComparisonPolicy, "metric_selection", "median", "interpretation.comparison.metric_selection"),
    (
        ComparisonPolicy,
        "missing_stage_severity",
        "fatal",
        "interpretation.comparison.missing_stage_severity",
    ),
    (
        DiagnosticsPolicy,
        "stale_run_after_seconds",
        0,
        "interpretation.diagnostics.stale_run_after_seconds",
    ),
    (
        DiagnosticsPolicy,
        "stale_run_after_seconds",
        math.nan,
        "interpretation.diagnostics.stale_run_after_seconds",
    ),
    (
        DiagnosticsPolicy,
        "null_rate_spike_min_increase",
        0.0,
        "interpretation.diagnostics.null_rate_spike_min_increase",
    ),
    (
        DiagnosticsPolicy,
        "null_rate_spike_min_increase",
        1.5,
        "interpretation.diagnostics.null_rate_spike_min_increase",
    ),
    (
        DiagnosticsPolicy,
        "expected_terminal_stage_names",
        "evaluate",
        "interpretation.diagnostics.expected_terminal_stage_names",
    ),
    (
        DiagnosticsPolicy,
        "expected_terminal_stage_names",
        ("ok", ""),
        "interpretation.diagnostics.expected_terminal_stage_names",
    ),
    (DiagnosticsPolicy, "detect_data_quality", 1, "interpretation.diagnostics.detect_data_quality"),
    (
        ReportPolicy,
        "include_lineage_summary",
        None,
        "interpretation.reports.include_lineage_summary",
    ),
    (SearchPolicy, "default_limit", 0, "interpretation.search.default_limit"),
    (
        SearchPolicy,
        "text_match_fields",
        ("name", "owner"),
        "interpretation.search.text_match_fields",
    ),
    (TrendPolicy, "default_window_runs", 0, "interpretation.trend.default_window_runs"),
    (TrendPolicy, "metric_aggregation", "sum", "interpretation.trend.metric_aggregation"),
    (AnomalyPolicy, "z_score_threshold", 0, "interpretation.anomaly.z_score_threshold"),
    (AnomalyPolicy, "z_score_threshold", "2.5", "interpretation.anomaly.z_score_threshold"),
    (AnomalyPolicy, "min_baseline_runs", 0, "interpretation.anomaly.min_baseline_runs"),
    (
        AnomalyPolicy,
        "monitored_metrics",
        ("ok", "top@5"),
        "interpretation.anomaly.monitored_metrics",
    ),
    (AlertPolicy, "default_severity", "critical", "interpretation.alert.default_severity"),
    (RecoveryConfig, "replay_mode_default", "lenient", "recovery.replay_mode_default"),
    (RecoveryConfig, "outbox_root", 5, "recovery.outbox_root"),
    (CLIConfig, "default_output_format", "yaml", "surfaces.cli.default_output_format"),
    (CLIConfig, "verbosity", "loud", "surfaces.cli.verbosity"),
    (HTTPConfig, "port", 70000, "surfaces.http.port"),
    (HTTPConfig, "port", -1, "surfaces.http.port"),
    (HTTPConfig, "host", "", "surfaces.http.host"),
    (ExportSurfaceConfig, "csv_delimiter", ";;", "surfaces.export.csv_delimiter"),
    (ExportSurfaceConfig, "csv_delimiter", "\n", "surfaces.export.csv_delimiter"),
    (RetentionConfig, "cache_ttl_days", -1, "retention.cache_ttl_days"),
    (RetentionConfig, "artifact_retention_mode", "eventually", "retention.artifact_retention_mode"),
    (SecurityConfig, "redaction_mode", "paranoid", "security.redaction_mode"),
    (SecurityConfig, "secret_key_patterns", ["token", 3], "security.secret_key_patterns"),
]


@pytest.mark.parametrize(
    ("cls", "name", "value", "path"),
    BAD_VALUES,
    ids=[f"{c.__name__}.{n}={v!r}"[:60] for c, n, v, _ in BAD_VALUES],
)
def test_bad_value_raises_configuration_error_naming_field(
    cls: type, name: str, value: Any, path: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        cls(**{name: value})
    err = info.value
    assert err.code == "config_invalid_value"
    assert f"'{path}'" in err.message
    assert "allowed:" in err.message
    assert err.details is not None
    assert err.details["field"] == path
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(("cls", "name", "value", "path"), BAD_VALUES[:20])
def test_bad_value_in_a_patch_names_the_same_field(
    cls: type, name: str, value: Any, path: str
) -> None:
    parts = path.split(".")
    patch: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        patch = {part: patch}
    with pytest.raises(ConfigurationError) as info:
        build_unified_config(patch)
    assert path in info.value.message


def test_value_in_message_is_truncated() -> None:
    with pytest.raises(ConfigurationError) as info:
        UnifiedConfig(project_name="\x00" + "y" * 5000)
    assert len(info.value.message) < 600


def test_sequences_become_tuples_and_numbers_floats() -> None:
    policy = DiagnosticsPolicy(
        expected_terminal_stage_names=["evaluate", "package"], stale_run_after_seconds=10
    )
    assert policy.expected_terminal_stage_names == ("evaluate", "package")
    assert policy.stale_run_after_seconds == 10.0
    assert isinstance(policy.stale_run_after_seconds, float)


def test_str_enums_are_accepted_by_value() -> None:
    class Mode(enum.StrEnum):
        FSYNC = "fsync"

    cfg = RecordStoreConfig(durability_mode=Mode.FSYNC)  # type: ignore[arg-type]
    assert cfg.durability_mode == "fsync"
    assert type(cfg.durability_mode) is str


# -- retention and security refuse what they cannot honour ---------------------------------


def test_enforced_retention_is_refused_with_its_own_code() -> None:
    with pytest.raises(ConfigurationError) as info:
        RetentionConfig(artifact_retention_mode="enforced")  # type: ignore[arg-type]
    assert info.value.code == "retention_unsupported"
    assert "retention.artifact_retention_mode" in info.value.message
    with pytest.raises(ConfigurationError) as info:
        build_unified_config({"retention": {"artifact_retention_mode": "enforced"}})
    assert info.value.code == "retention_unsupported"


def test_records_compaction_is_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        RetentionConfig(records_compaction_enabled=True)
    assert info.value.code == "retention_unsupported"
    assert "retention.records_compaction_enabled" in info.value.message


def test_planned_retention_is_accepted() -> None:
    assert RetentionConfig(artifact_retention_mode="planned").artifact_retention_mode == "planned"


@pytest.mark.parametrize("provider", ["kms", "aes", "", 1])
def test_encryption_provider_is_refused(provider: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        SecurityConfig(encryption_provider=provider)  # type: ignore[arg-type]
    assert info.value.code == "security_encryption_unsupported"
    assert "security.encryption_provider" in info.value.message


# -- metadata backend selection ------------------------------------------------------------


def test_duckdb_is_normalized_to_sqlite() -> None:
    assert MetadataStoreConfig(storage_adapter="duckdb").storage_adapter == "sqlite"  # type: ignore[arg-type]


def test_postgresql_requires_a_url() -> None:
    with pytest.raises(ConfigurationError) as info:
        MetadataStoreConfig(storage_adapter="postgresql")
    assert "metadata.database_url" in info.value.message


@pytest.mark.parametrize(
    "url", ["postgresql://u@127.0.0.1:5432/db", "postgresql+psycopg://u:pw@localhost/test"]
)
def test_postgres_url_selects_postgresql(url: str) -> None:
    cfg = MetadataStoreConfig(database_url=url)
    assert cfg.storage_adapter == "postgresql"
    assert cfg.database_url == url
    assert MetadataStoreConfig(database_url=url, storage_adapter="postgresql") == cfg


def test_sqlite_url_selects_sqlite_and_sets_the_path(tmp_path: Path) -> None:
    cfg = MetadataStoreConfig(database_url="sqlite:///data/m.db")
    assert cfg.storage_adapter == "sqlite"
    assert cfg.database_path == tmp_path / "data" / "m.db"
    assert cfg.database_url == f"sqlite:///{tmp_path / 'data' / 'm.db'}"
    absolute = MetadataStoreConfig(database_url=f"sqlite:///{tmp_path}/x.db")
    assert absolute.database_path == tmp_path / "x.db"
    memory = MetadataStoreConfig(database_url="sqlite:///:memory:")
    assert memory.database_path == ":memory:"
    unified = UnifiedConfig(metadata=MetadataStoreConfig(database_url="sqlite:///m.db"))
    assert unified.metadata.database_path == tmp_path / "m.db"


def test_conflicting_adapter_and_url_raise_without_leaking_the_password() -> None:
    with pytest.raises(ConfigurationError) as info:
        MetadataStoreConfig(storage_adapter="sqlite", database_url="postgresql://u:hunter2@h/db")
    assert "metadata.storage_adapter" in info.value.message
    assert "hunter2" not in info.value.message
    with pytest.raises(ConfigurationError):
        MetadataStoreConfig(storage_adapter="postgresql", database_url="sqlite:///x.db")


def test_conflicting_sqlite_path_and_url_raise() -> None:
    with pytest.raises(ConfigurationError) as info:
        MetadataStoreConfig(database_url="sqlite:///a.db", database_path="b.db")
    assert "metadata.database_path" in info.value.message


def test_bad_url_value_hides_password() -> None:
    with pytest.raises(ConfigurationError) as info:
        MetadataStoreConfig(database_url="mysql://root:hunter2@h/db")
    assert "hunter2" not in info.value.message
    assert "***" in info.value.message


# -- plane classmethods --------------------------------------------------------------------


@pytest.mark.parametrize("cls", [MetadataStoreConfig, RecordStoreConfig, ArtifactStoreConfig])
def test_plane_config_classmethods_round_trip(cls: Any) -> None:
    unified = UnifiedConfig()
    plane = cls.from_unified_config(unified)
    assert plane is getattr(unified, cls._section)
    plain = plane.to_dict()
    assert all(not isinstance(v, Path) for v in plain.values())
    assert cls.from_mapping(plain) == plane


def test_plane_from_mapping_refuses_unknown_keys() -> None:
    with pytest.raises(ConfigurationError) as info:
        RecordStoreConfig.from_mapping({"durabilty_mode": "fsync"})
    assert info.value.code == "unknown_config_field"
    assert "durability_mode" in info.value.message


def test_plane_from_unified_config_refuses_other_types() -> None:
    with pytest.raises(ConfigurationError):
        MetadataStoreConfig.from_unified_config({"metadata": {}})  # type: ignore[arg-type]


def test_nested_sections_accept_mappings() -> None:
    cfg = UnifiedConfig(capture={"retry_attempts": 2})  # type: ignore[arg-type]
    assert cfg.capture == CaptureConfig(retry_attempts=2)
    with pytest.raises(ConfigurationError) as info:
        UnifiedConfig(capture={"retries": 2})  # type: ignore[arg-type]
    assert info.value.code == "unknown_config_field"
