"""``CONTEXTA_*`` environment overrides (contract §9.2)."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from pathlib import Path

import pytest

from contexta.config import UnifiedConfig, apply_env_overrides, load_config
from contexta.config.env import env_field_paths
from contexta.errors import ConfigurationError


def test_every_field_has_a_unique_variable() -> None:
    names = env_field_paths()
    assert len(set(names.values())) == len(names)
    assert names["CONTEXTA_PROJECT_NAME"] == "project_name"
    assert names["CONTEXTA_WORKSPACE_ROOT_PATH"] == "workspace.root_path"
    assert names["CONTEXTA_RECORDS_DURABILITY_MODE"] == "records.durability_mode"
    assert (
        names["CONTEXTA_INTERPRETATION_TREND_DEFAULT_WINDOW_RUNS"]
        == "interpretation.trend.default_window_runs"
    )
    assert names["CONTEXTA_SECURITY_SECRET_KEY_PATTERNS"] == "security.secret_key_patterns"
    assert set(names.values()) == _leaf_paths(UnifiedConfig)


def _leaf_paths(cls: type, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for fld in dataclasses.fields(cls):
        nested = fld.metadata["spec"].nested
        if nested is not None:
            out |= _leaf_paths(nested, f"{prefix}{fld.name}.")
        else:
            out.add(prefix + fld.name)
    return out


def test_values_of_each_kind_are_parsed(tmp_path: Path) -> None:
    env = {
        "CONTEXTA_PROJECT_NAME": "  churn model ",
        "CONTEXTA_WORKSPACE_ROOT_PATH": "ws",
        "CONTEXTA_RECORDS_DURABILITY_MODE": "fsync",
        "CONTEXTA_INTERPRETATION_TREND_DEFAULT_WINDOW_RUNS": "7",
        "CONTEXTA_INTERPRETATION_ANOMALY_Z_SCORE_THRESHOLD": "3.5e0",
        "CONTEXTA_SECURITY_SECRET_KEY_PATTERNS": "token, api_key,,",
        "CONTEXTA_SURFACES_CLI_COLOR": "Off",
        "CONTEXTA_METADATA_AUTO_MIGRATE": "YES",
        "CONTEXTA_RETENTION_CACHE_TTL_DAYS": "none",
        "CONTEXTA_RETENTION_REPORT_TTL_DAYS": "30",
    }
    cfg = load_config(env=env)
    assert cfg.project_name == "churn model"
    assert cfg.workspace.root_path == tmp_path / "ws"
    assert cfg.metadata.database_path == tmp_path / "ws" / "metadata" / "contexta.sqlite3"
    assert cfg.records.durability_mode == "fsync"
    assert cfg.interpretation.trend.default_window_runs == 7
    assert cfg.interpretation.anomaly.z_score_threshold == 3.5
    assert cfg.security.secret_key_patterns == ("token", "api_key")
    assert cfg.surfaces.cli.color is False
    assert cfg.metadata.auto_migrate is True
    assert cfg.retention.cache_ttl_days is None
    assert cfg.retention.report_ttl_days == 30


def test_empty_sequence_and_blank_values() -> None:
    cfg = load_config(
        env={"CONTEXTA_SECURITY_SECRET_KEY_PATTERNS": "", "CONTEXTA_PROJECT_NAME": "   "}
    )
    # a blank value is "unset"
    assert cfg.security.secret_key_patterns == ("token", "secret", "password", "passwd", "key")
    assert cfg.project_name == "default"
    cfg = load_config(env={"CONTEXTA_SECURITY_SECRET_KEY_PATTERNS": ","})
    assert cfg.security.secret_key_patterns == ()


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("CONTEXTA_SURFACES_CLI_COLOR", "maybe"),
        ("CONTEXTA_SURFACES_HTTP_PORT", "80.0"),
        ("CONTEXTA_SURFACES_HTTP_PORT", "8_080"),
        ("CONTEXTA_SURFACES_HTTP_PORT", "0x50"),
        ("CONTEXTA_CAPTURE_RETRY_ATTEMPTS", "-1"),
        ("CONTEXTA_INTERPRETATION_ANOMALY_Z_SCORE_THRESHOLD", "inf"),
        ("CONTEXTA_INTERPRETATION_ANOMALY_Z_SCORE_THRESHOLD", "nan"),
        ("CONTEXTA_RECORDS_DURABILITY_MODE", "sometimes"),
        ("CONTEXTA_PROJECT_NAME", "null"),
        ("CONTEXTA_SURFACES_CLI_COLOR", "none"),
    ],
)
def test_bad_values_name_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env={name: raw})
    err = info.value
    assert err.code == "config_invalid_value"
    assert name in err.message
    assert err.details is not None
    assert err.details["variable"] == name


def test_unknown_variables_are_ignored_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    name = f"CONTEXTA_API_TOKEN_{uuid.uuid4().hex.upper()}"
    caplog.set_level(logging.WARNING, logger="contexta.config")
    cfg = load_config(env={name: "secret-value"})
    assert cfg == load_config(env={})
    load_config(env={name: "secret-value"})
    records = [r for r in caplog.records if name in r.getMessage()]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert records[0].name == "contexta.config"
    assert "secret-value" not in records[0].getMessage()


def test_database_url_alias_and_long_form_precedence() -> None:
    cfg = load_config(env={"CONTEXTA_DATABASE_URL": "postgresql://u@127.0.0.1:5432/db"})
    assert cfg.metadata.storage_adapter == "postgresql"
    assert cfg.metadata.database_url == "postgresql://u@127.0.0.1:5432/db"
    both = load_config(
        env={
            "CONTEXTA_DATABASE_URL": "postgresql://short@h/db",
            "CONTEXTA_METADATA_DATABASE_URL": "postgresql://long@h/db",
        }
    )
    assert both.metadata.database_url == "postgresql://long@h/db"


@pytest.mark.parametrize("name", ["CONTEXTA_CONFIG_VERSION", "CONTEXTA_PROFILE_NAME"])
def test_non_overridable_keys(name: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env={name: "1"})
    assert info.value.code == "non_overridable_config_key"
    assert name in info.value.message


def test_os_environ_is_read_when_env_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXTA_PROJECT_NAME", "from-os")
    assert load_config().project_name == "from-os"
    assert load_config(use_env=False).project_name == "default"
    assert load_config(env={}).project_name == "default"


def test_apply_env_overrides_to_a_ready_made_config(tmp_path: Path) -> None:
    base = UnifiedConfig(project_name="p")
    moved = apply_env_overrides(base, env={"CONTEXTA_WORKSPACE_ROOT_PATH": str(tmp_path / "w")})
    assert moved.project_name == "p"
    assert moved.workspace.root_path == tmp_path / "w"
    # derived paths follow the new root
    assert moved.records.root_path == tmp_path / "w" / "records"
    assert moved.recovery.backup_root == tmp_path / "w-backups"
    assert apply_env_overrides(base, env={}) is base
    # selectors are not applied here
    assert apply_env_overrides(base, env={"CONTEXTA_PROFILE": "test"}) is base


def test_apply_env_overrides_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXTA_CAPTURE_RETRY_ATTEMPTS", "4")
    assert apply_env_overrides(UnifiedConfig()).capture.retry_attempts == 4


def test_ready_made_config_never_gets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXTA_PROJECT_NAME", "from-os")
    ready = UnifiedConfig(project_name="mine")
    assert load_config(config=ready) is ready


def test_env_cannot_enable_unsupported_features() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env={"CONTEXTA_SECURITY_ENCRYPTION_PROVIDER": "kms"})
    assert info.value.code == "security_encryption_unsupported"
    with pytest.raises(ConfigurationError) as info:
        load_config(env={"CONTEXTA_RETENTION_RECORDS_COMPACTION_ENABLED": "true"})
    assert info.value.code == "retention_unsupported"
    cleared = load_config(env={"CONTEXTA_SECURITY_ENCRYPTION_PROVIDER": "none"})
    assert cleared.security.encryption_provider is None


def test_bad_selector_values() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(env={"CONTEXTA_PROFILE": "prod"})
    assert "CONTEXTA_PROFILE" in info.value.message
    with pytest.raises(ConfigurationError) as info:
        load_config(env={"CONTEXTA_PROFILE_OVERLAYS": "debug,verbose"})
    assert "CONTEXTA_PROFILE_OVERLAYS" in info.value.message
