"""Defaults of contract §9.4 to 9.6, derived paths, docs coverage and the import surface."""

from __future__ import annotations

import dataclasses
import pickle
import re
from pathlib import Path
from typing import Any

import pytest

import contexta.config as cfgmod
from contexta.config import (
    ArtifactStoreConfig,
    InterpretationConfig,
    MetadataStoreConfig,
    RecordStoreConfig,
    RecoveryConfig,
    UnifiedConfig,
    WorkspaceConfig,
    build_schema_defaults,
)

# Contract §9.4 to 9.6, one row per field (paths are checked separately).
EXPECTED_DEFAULTS: dict[str, Any] = {
    "config_version": "1",
    "profile_name": "local",
    "project_name": "default",
    "workspace.create_missing_dirs": True,
    "contract.schema_version": "1.0.0",
    "contract.validation_mode": "strict",
    "contract.compatibility_mode": "strict",
    "contract.deterministic_serialization": True,
    "capture.producer_ref": "sdk.python.local",
    "capture.capture_environment_snapshot": True,
    "capture.capture_installed_packages": True,
    "capture.capture_code_revision": True,
    "capture.capture_config_snapshot": True,
    "capture.retry_attempts": 0,
    "capture.retry_backoff_seconds": 0.0,
    "capture.dispatch_failure_mode": "outbox",
    "capture.write_degraded_marker_on_partial_failure": True,
    "metadata.storage_adapter": "sqlite",
    "metadata.database_url": None,
    "metadata.auto_create": True,
    "metadata.read_only": False,
    "metadata.auto_migrate": False,
    "records.durability_mode": "flush",
    "records.read_only": False,
    "records.max_segment_bytes": 1048576,
    "records.layout_mode": "jsonl_segments",
    "records.layout_version": "1",
    "records.enable_indexes": True,
    "artifacts.default_ingest_mode": "copy",
    "artifacts.verification_mode": "manifest_if_available",
    "artifacts.create_missing_dirs": True,
    "artifacts.chunk_size_bytes": 1048576,
    "artifacts.read_only": False,
    "artifacts.layout_version": "v1",
    "interpretation.comparison.metric_selection": "latest",
    "interpretation.comparison.include_unchanged_metrics": False,
    "interpretation.comparison.missing_stage_severity": "warning",
    "interpretation.diagnostics.require_metrics_for_completed_stages": True,
    "interpretation.diagnostics.detect_degraded_records": True,
    "interpretation.diagnostics.expected_terminal_stage_names": (),
    "interpretation.diagnostics.stale_run_after_seconds": 3600.0,
    "interpretation.diagnostics.detect_metric_anomalies": True,
    "interpretation.diagnostics.detect_data_quality": True,
    "interpretation.diagnostics.null_rate_spike_min_increase": 0.05,
    "interpretation.reports.include_completeness_notes": True,
    "interpretation.reports.include_lineage_summary": True,
    "interpretation.reports.include_evidence_summary": True,
    "interpretation.search.default_limit": 50,
    "interpretation.search.text_match_fields": ("name", "tags", "status"),
    "interpretation.search.case_sensitive": False,
    "interpretation.trend.default_window_runs": 20,
    "interpretation.trend.metric_aggregation": "latest",
    "interpretation.anomaly.z_score_threshold": 2.5,
    "interpretation.anomaly.min_baseline_runs": 3,
    "interpretation.anomaly.monitored_metrics": (),
    "interpretation.alert.stop_on_first_trigger": False,
    "interpretation.alert.default_severity": "warning",
    "recovery.replay_mode_default": "tolerant",
    "recovery.require_plan_before_apply": True,
    "recovery.create_backup_before_restore": True,
    "surfaces.cli.default_output_format": "text",
    "surfaces.cli.verbosity": "normal",
    "surfaces.cli.color": True,
    "surfaces.http.host": "127.0.0.1",
    "surfaces.http.port": 8080,
    "surfaces.http.open_browser": False,
    "surfaces.http.enabled": False,
    "surfaces.html.enabled": True,
    "surfaces.html.inline_charts": True,
    "surfaces.notebook.enabled": True,
    "surfaces.export.csv_delimiter": ",",
    "surfaces.export.html_inline_charts": True,
    "surfaces.export.include_completeness_notes": True,
    "retention.cache_ttl_days": 7,
    "retention.report_ttl_days": None,
    "retention.export_ttl_days": None,
    "retention.artifact_retention_mode": "manual",
    "retention.records_compaction_enabled": False,
    "security.redaction_mode": "safe_default",
    "security.environment_variable_allowlist": (),
    "security.secret_key_patterns": ("token", "secret", "password", "passwd", "key"),
    "security.allow_unredacted_local_exports": False,
    "security.encryption_provider": None,
}

PATH_FIELDS = {
    "workspace.root_path",
    "workspace.metadata_path",
    "workspace.records_path",
    "workspace.artifacts_path",
    "workspace.exports_path",
    "workspace.cache_path",
    "workspace.reports_path",
    "metadata.database_path",
    "records.root_path",
    "artifacts.root_path",
    "recovery.outbox_root",
    "recovery.backup_root",
    "recovery.restore_staging_root",
}

# Fields marked C in contract §9: accepted and validated, no effect.
INERT_FIELDS = {
    "workspace.reports_path",
    "contract.validation_mode",
    "contract.compatibility_mode",
    "contract.deterministic_serialization",
    "records.max_segment_bytes",
    "records.layout_mode",
    "records.layout_version",
    "records.enable_indexes",
    "artifacts.layout_version",
    "recovery.require_plan_before_apply",
    "recovery.create_backup_before_restore",
    "surfaces.http.enabled",
    "surfaces.notebook.enabled",
    "retention.cache_ttl_days",
    "retention.report_ttl_days",
    "retention.export_ttl_days",
    "retention.artifact_retention_mode",
    "retention.records_compaction_enabled",
    "security.allow_unredacted_local_exports",
}

CONFIG_CLASSES = [
    getattr(cfgmod, name) for name in cfgmod.__all__ if name.endswith(("Config", "Policy"))
]


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _leaf_paths(cls: type, prefix: str = "") -> list[tuple[str, type, str]]:
    out = []
    for fld in dataclasses.fields(cls):
        path = f"{prefix}{fld.name}"
        nested = fld.metadata["spec"].nested
        if nested is not None:
            out.extend(_leaf_paths(nested, path + "."))
        else:
            out.append((path, cls, fld.name))
    return out


def test_every_leaf_field_has_a_tested_default() -> None:
    leaves = {path for path, _, _ in _leaf_paths(UnifiedConfig)}
    assert leaves == set(EXPECTED_DEFAULTS) | PATH_FIELDS


@pytest.mark.parametrize(("path", "expected"), sorted(EXPECTED_DEFAULTS.items()))
def test_schema_default(path: str, expected: object) -> None:
    value = _get(build_schema_defaults(), path)
    assert value == expected
    assert type(value) is type(expected) or isinstance(expected, float)


def test_derived_paths_follow_relative_root_resolved_against_cwd(tmp_path: Path) -> None:
    # The seed's construction (contract Appendix A, row 2).
    cfg = UnifiedConfig(project_name="p", workspace=WorkspaceConfig(root_path=Path(".contexta")))
    root = tmp_path / ".contexta"
    ws = cfg.workspace
    assert ws.root_path == root
    assert ws.root_path.is_absolute()
    assert ws.metadata_path == root / "metadata"
    assert ws.records_path == root / "records"
    assert ws.artifacts_path == root / "artifacts"
    assert ws.exports_path == root / "exports"
    assert ws.cache_path == root / "cache"
    assert ws.reports_path == root / "reports"
    assert cfg.metadata.database_path == root / "metadata" / "contexta.sqlite3"
    assert cfg.records.root_path == root / "records"
    assert cfg.artifacts.root_path == root / "artifacts"
    assert cfg.recovery.outbox_root == root / "cache" / "outbox"
    assert cfg.recovery.backup_root == tmp_path / ".contexta-backups"
    assert cfg.recovery.restore_staging_root == tmp_path / ".contexta-backups" / ".staging"
    for path in PATH_FIELDS:
        assert isinstance(_get(cfg, path), Path), path
        assert _get(cfg, path).is_absolute(), path
    # nothing is created by building a config
    assert not root.exists()


def test_explicit_derived_paths_win(tmp_path: Path) -> None:
    cfg = UnifiedConfig(
        workspace=WorkspaceConfig(root_path="ws", metadata_path="meta", cache_path="/tmp/c"),
        records=RecordStoreConfig(root_path="recs"),
        recovery=RecoveryConfig(backup_root="bk"),
    )
    assert cfg.workspace.root_path == tmp_path / "ws"
    assert cfg.workspace.metadata_path == tmp_path / "meta"
    assert cfg.metadata.database_path == tmp_path / "meta" / "contexta.sqlite3"
    assert cfg.records.root_path == tmp_path / "recs"
    assert cfg.artifacts.root_path == tmp_path / "ws" / "artifacts"
    assert cfg.recovery.outbox_root == Path("/tmp/c/outbox")
    assert cfg.recovery.restore_staging_root == tmp_path / "bk" / ".staging"


def test_memory_database_is_kept() -> None:
    cfg = UnifiedConfig(metadata=MetadataStoreConfig(database_path=":memory:"))
    assert cfg.metadata.database_path == ":memory:"


def test_plane_configs_standalone_leave_derived_paths_unset(tmp_path: Path) -> None:
    assert MetadataStoreConfig().database_path is None
    assert RecordStoreConfig().root_path is None
    assert ArtifactStoreConfig(root_path="vault").root_path == tmp_path / "vault"


def test_configs_are_frozen_and_keyword_built() -> None:
    cfg = UnifiedConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.project_name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.capture.retry_attempts = 3  # type: ignore[misc]
    assert cfg.interpretation == InterpretationConfig()
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_unified_field_order() -> None:
    assert [f.name for f in dataclasses.fields(UnifiedConfig)] == [
        "config_version",
        "profile_name",
        "project_name",
        "workspace",
        "contract",
        "capture",
        "metadata",
        "records",
        "artifacts",
        "interpretation",
        "recovery",
        "surfaces",
        "retention",
        "security",
    ]


@pytest.mark.parametrize("cls", CONFIG_CLASSES, ids=lambda c: c.__name__)
def test_every_field_is_documented_in_its_class_docstring(cls: type) -> None:
    doc = cls.__doc__ or ""
    for fld in dataclasses.fields(cls):
        assert f"{fld.name}:" in doc, f"{cls.__name__}.{fld.name} is not documented"


def _attribute_docs(cls: type) -> dict[str, str]:
    """``Attributes:`` entries of a class docstring, name -> text."""
    block = (cls.__doc__ or "").split("Attributes:", 1)[1]
    entries = re.split(r"\n {8}(?=\w+: )", block)
    return {
        e.split(":", 1)[0].strip(): " ".join(e.split(":", 1)[1].split())
        for e in entries
        if ":" in e
    }


@pytest.mark.parametrize("cls", CONFIG_CLASSES, ids=lambda c: c.__name__)
def test_attribute_docs_list_exactly_the_fields(cls: type) -> None:
    assert set(_attribute_docs(cls)) == {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("path", sorted(INERT_FIELDS))
def test_inert_fields_say_they_have_no_effect(path: str) -> None:
    leaf = {p: (cls, name) for p, cls, name in _leaf_paths(UnifiedConfig)}
    cls, name = leaf[path]
    assert "no effect" in _attribute_docs(cls)[name], path


@pytest.mark.parametrize("path", sorted((set(EXPECTED_DEFAULTS) | PATH_FIELDS) - INERT_FIELDS))
def test_effective_fields_do_not_claim_to_be_inert(path: str) -> None:
    leaf = {p: (cls, name) for p, cls, name in _leaf_paths(UnifiedConfig)}
    cls, name = leaf[path]
    assert "no effect" not in _attribute_docs(cls)[name], path


def test_all_is_exactly_the_contract_surface() -> None:
    expected = {
        "UnifiedConfig",
        "WorkspaceConfig",
        "ContractConfig",
        "CaptureConfig",
        "MetadataStoreConfig",
        "RecordStoreConfig",
        "ArtifactStoreConfig",
        "InterpretationConfig",
        "ComparisonPolicy",
        "DiagnosticsPolicy",
        "ReportPolicy",
        "SearchPolicy",
        "TrendPolicy",
        "AnomalyPolicy",
        "AlertPolicy",
        "RecoveryConfig",
        "SurfaceConfig",
        "CLIConfig",
        "HTTPConfig",
        "HTMLConfig",
        "NotebookConfig",
        "ExportSurfaceConfig",
        "RetentionConfig",
        "SecurityConfig",
        "ProfileName",
        "ProfileOverlayName",
        "PROFILE_NAMES",
        "PROFILE_OVERLAY_NAMES",
        "CANONICAL_ENV_PREFIX",
        "PROFILE_ENV_KEY",
        "PROFILE_OVERLAYS_ENV_KEY",
        "load_config",
        "load_profile",
        "make_local_config",
        "make_test_config",
        "apply_env_overrides",
        "build_schema_defaults",
        "build_unified_config",
        "replace_unified_config",
        "config_to_mapping",
        "merge_config_patch",
    }
    assert set(cfgmod.__all__) == expected
    assert len(cfgmod.__all__) == len(expected)
    for name in expected:
        assert getattr(cfgmod, name) is not None
    assert cfgmod.PROFILE_NAMES == ("local", "test")
    assert cfgmod.PROFILE_OVERLAY_NAMES == ("debug", "forensic", "ci", "readonly")
    assert cfgmod.CANONICAL_ENV_PREFIX == "CONTEXTA_"
    assert cfgmod.PROFILE_ENV_KEY == "CONTEXTA_PROFILE"
    assert cfgmod.PROFILE_OVERLAYS_ENV_KEY == "CONTEXTA_PROFILE_OVERLAYS"


def test_all_config_classes_are_frozen_dataclasses() -> None:
    assert len(CONFIG_CLASSES) == 24
    for cls in CONFIG_CLASSES:
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
