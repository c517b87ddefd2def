"""Profiles, overlays, config files and the resolution order of ``load_config`` (§9.1, §9.3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contexta.config import (
    UnifiedConfig,
    WorkspaceConfig,
    build_schema_defaults,
    load_config,
    load_profile,
    make_local_config,
    make_test_config,
)
from contexta.errors import ConfigurationError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- profiles and overlays -----------------------------------------------------------------


def test_local_profile_is_the_defaults() -> None:
    assert load_profile("local") == build_schema_defaults()
    assert load_config(env={}) == build_schema_defaults()


def test_test_profile(tmp_path: Path) -> None:
    cfg = load_profile("test")
    assert cfg.profile_name == "test"
    assert cfg.project_name == "test"
    assert cfg.workspace.root_path == tmp_path / ".contexta-test"
    assert cfg.metadata.database_path == tmp_path / ".contexta-test/metadata/contexta.sqlite3"
    assert cfg.capture.capture_environment_snapshot is False
    assert cfg.capture.capture_installed_packages is False
    assert cfg.capture.capture_code_revision is False
    assert cfg.capture.capture_config_snapshot is True
    assert cfg.capture.dispatch_failure_mode == "raise"
    assert cfg.artifacts.verification_mode == "strict"
    assert cfg.surfaces.html.enabled is False
    assert cfg.security.redaction_mode == "strict"


def test_overlays() -> None:
    debug = load_profile("local", overlays=("debug",))
    assert debug.surfaces.cli.verbosity == "debug"
    assert debug.interpretation.diagnostics.detect_degraded_records is True
    assert debug.interpretation.reports.include_evidence_summary is True
    forensic = load_profile("local", overlays=["forensic"])
    assert forensic.surfaces.cli.verbosity == "forensic"
    assert forensic.interpretation.reports.include_lineage_summary is True
    ci = load_profile("local", overlays="ci")
    assert ci.surfaces.cli.default_output_format == "json"
    assert ci.surfaces.cli.color is False
    assert ci.capture.retry_attempts == 0
    ro = load_profile("test", overlays=("readonly",))
    assert (ro.metadata.read_only, ro.records.read_only, ro.artifacts.read_only) == (
        True,
        True,
        True,
    )
    assert ro.profile_name == "test"


def test_overlays_apply_in_canonical_order_whatever_the_given_order() -> None:
    a = load_profile("local", overlays=("forensic", "debug"))
    b = load_profile("local", overlays=("debug", "forensic", "debug"))
    assert a == b
    assert a.surfaces.cli.verbosity == "forensic"  # forensic comes after debug


@pytest.mark.parametrize("bad", ["prod", "", None, 3])
def test_unknown_profile(bad: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_profile(bad)  # type: ignore[arg-type]
    assert "profile" in info.value.message


@pytest.mark.parametrize("bad", [("debug", "loud"), "debug,,verbose", 5, ("debug", 1)])
def test_unknown_overlay(bad: object) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_profile("local", overlays=bad)  # type: ignore[arg-type]
    assert "overlays" in info.value.message


def test_make_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTEXTA_PROJECT_NAME", "from-env")
    assert make_local_config().project_name == "from-env"
    assert make_local_config(use_env=False) == load_profile("local")
    assert make_test_config().project_name == "test"  # env ignored by default
    assert make_test_config(use_env=True).project_name == "from-env"
    assert make_test_config(overlays=("ci",)).surfaces.cli.color is False


# -- files ---------------------------------------------------------------------------------


def test_toml_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "contexta.toml",
        """
project_name = "from-file"
overlays = ["ci"]

[workspace]
root_path = "data/ws"

[interpretation.diagnostics]
expected_terminal_stage_names = ["evaluate"]
stale_run_after_seconds = 60

[metadata]
database_url = "postgresql://u@127.0.0.1:5432/test"
""",
    )
    cfg = load_config(config_file=path, env={})
    assert cfg.project_name == "from-file"
    assert cfg.workspace.root_path == tmp_path / "data" / "ws"
    assert cfg.interpretation.diagnostics.expected_terminal_stage_names == ("evaluate",)
    assert cfg.interpretation.diagnostics.stale_run_after_seconds == 60.0
    assert cfg.metadata.storage_adapter == "postgresql"
    assert cfg.surfaces.cli.default_output_format == "json"
    assert cfg.profile_name == "local"


def test_json_file_with_profile_selector(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "c.JSON",
        json.dumps({"profile": "test", "capture": {"retry_attempts": 2}}),
    )
    cfg = load_config(config_file=str(path), env={})
    assert cfg.profile_name == "test"
    assert cfg.project_name == "test"
    assert cfg.capture.retry_attempts == 2


def test_unknown_key_in_file_suggests_the_closest_names(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", '[records]\ndurabilty_mode = "fsync"\n')
    with pytest.raises(ConfigurationError) as info:
        load_config(config_file=path, env={})
    err = info.value
    assert err.code == "unknown_config_field"
    assert "records.durabilty_mode" in err.message
    assert "durability_mode" in err.message
    assert str(path) in err.message
    assert err.details is not None
    assert "durability_mode" in err.details["suggestions"]


def test_unknown_top_level_key_in_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.json", json.dumps({"workspce": {"root_path": "x"}}))
    with pytest.raises(ConfigurationError) as info:
        load_config(config_file=path, env={})
    assert info.value.code == "unknown_config_field"
    assert "'workspace'" in info.value.message


def test_bad_value_in_file_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", "[surfaces.http]\nport = 99999\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(config_file=path, env={})
    assert info.value.code == "config_invalid_value"
    assert "surfaces.http.port" in info.value.message
    assert str(path) in info.value.message


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("missing.toml", None, "config_file_missing"),
        ("bad.toml", "project_name = ", "config_file_invalid"),
        ("bad.json", "{not json", "config_file_invalid"),
        ("nan.json", '{"capture": {"retry_backoff_seconds": NaN}}', "config_file_invalid"),
        ("list.json", "[1, 2]", "config_file_invalid"),
        ("c.yaml", "project_name: x", "config_file_invalid"),
        ("latin1.toml", None, "config_file_invalid"),
    ],
)
def test_file_errors(tmp_path: Path, name: str, content: str | None, code: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    elif name.startswith("latin1"):
        path.write_bytes(b'project_name = "caf\xe9"\n')
    with pytest.raises(ConfigurationError) as info:
        load_config(config_file=path, env={})
    assert info.value.code == code
    assert str(path) in info.value.message


def test_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ConfigurationError) as info:
        load_config(config_file=tmp_path / "dir.toml", env={})
    assert info.value.code == "config_file_invalid"


# -- resolution order ----------------------------------------------------------------------


def test_resolution_order_later_wins(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "c.toml",
        """
project_name = "file"
[capture]
retry_attempts = 1
producer_ref = "from.file"
[surfaces.cli]
verbosity = "quiet"
[records]
durability_mode = "fsync"
""",
    )
    env = {
        "CONTEXTA_PROJECT_NAME": "env",
        "CONTEXTA_CAPTURE_RETRY_ATTEMPTS": "2",
        "CONTEXTA_WORKSPACE_ROOT_PATH": "env-root",
    }
    cfg = load_config(
        overlays=("debug",),
        config_file=path,
        env=env,
        config={"capture": {"retry_attempts": 3}},
    )
    assert cfg.surfaces.cli.verbosity == "quiet"  # file beats overlay
    assert cfg.records.durability_mode == "fsync"  # file beats profile
    assert cfg.capture.producer_ref == "from.file"
    assert cfg.project_name == "env"  # env beats file
    assert cfg.capture.retry_attempts == 3  # mapping beats env
    assert cfg.workspace.root_path == tmp_path / "env-root"

    cfg = load_config(
        config_file=path,
        env=env,
        config={"project_name": "mapping"},
        project_name="arg",
        workspace="arg-root",
    )
    assert cfg.project_name == "arg"  # project_name argument beats the mapping
    assert cfg.workspace.root_path == tmp_path / "arg-root"  # workspace argument is last
    assert cfg.records.root_path == tmp_path / "arg-root" / "records"


def test_selector_precedence(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", 'profile = "test"\noverlays = "ci"\n')
    assert load_config(config_file=path, env={}).profile_name == "test"
    from_env = load_config(
        config_file=path,
        env={"CONTEXTA_PROFILE": "local", "CONTEXTA_PROFILE_OVERLAYS": "readonly"},
    )
    assert from_env.profile_name == "local"
    assert from_env.records.read_only is True
    assert from_env.surfaces.cli.color is True  # env overlays replace the file's
    from_arg = load_config(
        profile="test", overlays=(), config_file=path, env={"CONTEXTA_PROFILE": "local"}
    )
    assert from_arg.profile_name == "test"
    assert from_arg.records.read_only is False


def test_workspace_argument_keeps_explicit_derived_paths(tmp_path: Path) -> None:
    cfg = load_config(
        config={"workspace": {"artifacts_path": "/srv/artifacts"}}, workspace="w", env={}
    )
    assert cfg.workspace.root_path == tmp_path / "w"
    assert cfg.artifacts.root_path == Path("/srv/artifacts")
    assert cfg.metadata.database_path == tmp_path / "w/metadata/contexta.sqlite3"


def test_relative_paths_resolve_at_resolution_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    cfg = load_config(workspace=".ws", env={})
    monkeypatch.chdir(tmp_path)
    assert cfg.workspace.root_path == tmp_path / "a" / ".ws"


def test_ready_made_config_with_other_inputs_conflicts(tmp_path: Path) -> None:
    ready = UnifiedConfig()
    assert load_config(config=ready) is ready
    for kwargs in (
        {"profile": "local"},
        {"overlays": ("ci",)},
        {"workspace": "w"},
        {"project_name": "p"},
        {"env": {}},
        {"config_file": tmp_path / "c.toml"},
    ):
        with pytest.raises(ConfigurationError) as info:
            load_config(config=ready, **kwargs)  # type: ignore[arg-type]
        assert info.value.code == "config_conflicting_inputs"


def test_mapping_unknown_key_and_bad_types() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_config(config={"project": "x"}, env={})
    assert info.value.code == "unknown_config_field"
    assert "project_name" in info.value.message
    with pytest.raises(ConfigurationError):
        load_config(config=["project_name"], env={})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        load_config(config={"capture": 3}, env={})
    with pytest.raises(ConfigurationError):
        load_config(workspace=3, env={})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        load_config(env=["CONTEXTA_X"])  # type: ignore[arg-type]


def test_workspace_section_instance_in_mapping_follows_later_root(tmp_path: Path) -> None:
    cfg = load_config(
        config={"workspace": WorkspaceConfig(root_path="a", cache_path="/srv/cache")},
        workspace="b",
        env={},
    )
    assert cfg.workspace.metadata_path == tmp_path / "b" / "metadata"
    assert cfg.workspace.cache_path == Path("/srv/cache")
