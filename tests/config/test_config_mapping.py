"""Patches, merging, ``config_to_mapping`` round trips and the no-leak rule for config."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexta.config import (
    RecoveryConfig,
    UnifiedConfig,
    WorkspaceConfig,
    apply_env_overrides,
    build_unified_config,
    config_to_mapping,
    load_config,
    load_profile,
    merge_config_patch,
    replace_unified_config,
)
from contexta.errors import ConfigurationError, ContextaError

_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_merge_config_patch_is_deep_and_pure() -> None:
    base = {"a": 1, "n": {"x": 1, "y": {"z": 1}}}
    patch = {"n": {"y": {"w": 2}, "x": None}, "b": [1]}
    merged = merge_config_patch(base, patch)
    assert merged == {"a": 1, "b": [1], "n": {"x": None, "y": {"z": 1, "w": 2}}}
    assert base == {"a": 1, "n": {"x": 1, "y": {"z": 1}}}
    merged["n"]["y"]["z"] = 5
    assert base["n"]["y"]["z"] == 1
    assert merge_config_patch(base, None) == base
    assert merge_config_patch({"n": 1}, {"n": {"x": 1}}) == {"n": {"x": 1}}


def test_config_to_mapping_is_plain_json() -> None:
    mapping = config_to_mapping(load_profile("test", overlays=("debug",)))
    text = json.dumps(mapping)  # only plain types
    assert json.loads(text) == mapping
    assert isinstance(mapping["workspace"]["root_path"], str)
    assert mapping["interpretation"]["search"]["text_match_fields"] == ["name", "tags", "status"]


@pytest.mark.parametrize(
    "cfg",
    [
        UnifiedConfig(),
        load_profile("test", overlays=("debug", "forensic", "ci", "readonly")),
        UnifiedConfig(metadata={"database_url": "postgresql://u:pw@h:5432/db"}),  # type: ignore[arg-type]
        UnifiedConfig(metadata={"database_url": "sqlite:///m.db"}),  # type: ignore[arg-type]
        UnifiedConfig(metadata={"database_path": ":memory:"}),  # type: ignore[arg-type]
        UnifiedConfig(workspace=WorkspaceConfig(root_path="/", cache_path="/tmp/x")),
    ],
)
def test_round_trip_examples(cfg: UnifiedConfig) -> None:
    assert build_unified_config(config_to_mapping(cfg)) == cfg
    assert replace_unified_config(cfg) == cfg
    assert replace_unified_config(cfg, config_to_mapping(cfg)) == cfg


_names = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40).filter(
    lambda t: t.strip() != ""
)
_keys = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_-]{0,8}(?:[./][A-Za-z0-9_-]{1,6}){0,2}\Z")
_rel_paths = st.lists(st.from_regex(r"\A[a-z][a-z0-9_.-]{0,8}\Z"), min_size=1, max_size=3).map(
    lambda parts: os.path.join(*parts)
)


@_SETTINGS
@given(
    project=_names,
    root=_rel_paths,
    explicit_cache=st.none() | _rel_paths,
    retry=st.integers(0, 10**6),
    backoff=st.floats(0, 1e6, allow_nan=False),
    stale=st.floats(1e-6, 1e9, allow_nan=False),
    null_rate=st.floats(1e-9, 1.0, allow_nan=False),
    stages=st.lists(_names, max_size=3),
    metrics=st.lists(_keys, max_size=3),
    mode=st.sampled_from(["flush", "fsync"]),
    port=st.integers(0, 65535),
    delimiter=st.sampled_from([",", ";", "\t", "|", " "]),
    cache_ttl=st.none() | st.integers(0, 10**4),
)
def test_round_trip_property(
    project: str,
    root: str,
    explicit_cache: str | None,
    retry: int,
    backoff: float,
    stale: float,
    null_rate: float,
    stages: list[str],
    metrics: list[str],
    mode: str,
    port: int,
    delimiter: str,
    cache_ttl: int | None,
) -> None:
    patch: dict[str, Any] = {
        "project_name": project,
        "workspace": {"root_path": root, "cache_path": explicit_cache},
        "capture": {"retry_attempts": retry, "retry_backoff_seconds": backoff},
        "records": {"durability_mode": mode},
        "interpretation": {
            "diagnostics": {
                "stale_run_after_seconds": stale,
                "null_rate_spike_min_increase": null_rate,
                "expected_terminal_stage_names": stages,
            },
            "anomaly": {"monitored_metrics": metrics},
        },
        "surfaces": {"http": {"port": port}, "export": {"csv_delimiter": delimiter}},
        "retention": {"cache_ttl_days": cache_ttl},
    }
    cfg = build_unified_config(patch)
    mapping = config_to_mapping(cfg)
    assert build_unified_config(mapping) == cfg
    assert build_unified_config(json.loads(json.dumps(mapping))) == cfg
    assert cfg.interpretation.diagnostics.expected_terminal_stage_names == tuple(stages)
    assert cfg.workspace.root_path == Path.cwd() / root


def test_replace_moves_derived_paths_with_the_root(tmp_path: Path) -> None:
    cfg = UnifiedConfig(
        workspace=WorkspaceConfig(root_path="a", exports_path="/srv/exports"),
        recovery=RecoveryConfig(outbox_root="/srv/outbox"),
    )
    moved = replace_unified_config(cfg, {"workspace": {"root_path": "b"}})
    new = tmp_path / "b"
    assert moved.workspace.root_path == new
    assert moved.workspace.metadata_path == new / "metadata"
    assert moved.workspace.exports_path == Path("/srv/exports")  # explicit: kept
    assert moved.metadata.database_path == new / "metadata" / "contexta.sqlite3"
    assert moved.records.root_path == new / "records"
    assert moved.artifacts.root_path == new / "artifacts"
    assert moved.recovery.outbox_root == Path("/srv/outbox")  # explicit: kept
    assert moved.recovery.backup_root == tmp_path / "b-backups"
    assert moved.recovery.restore_staging_root == tmp_path / "b-backups" / ".staging"
    assert cfg.workspace.root_path == tmp_path / "a"  # original unchanged


def test_replace_switches_backend_without_false_conflicts() -> None:
    cfg = UnifiedConfig()
    pg = replace_unified_config(cfg, {"metadata": {"database_url": "postgresql://u@h/db"}})
    assert pg.metadata.storage_adapter == "postgresql"
    back = replace_unified_config(pg, {"metadata": {"database_url": None}})
    assert back.metadata.storage_adapter == "sqlite"
    assert back == cfg
    lite = replace_unified_config(cfg, {"metadata": {"database_url": "sqlite:///x.db"}})
    moved = replace_unified_config(lite, {"workspace": {"root_path": "elsewhere"}})
    assert moved.metadata.database_path == lite.metadata.database_path


def test_replace_and_build_reject_unknown_fields() -> None:
    with pytest.raises(ConfigurationError) as info:
        replace_unified_config(UnifiedConfig(), {"interpretation": {"trends": {}}})
    assert info.value.code == "unknown_config_field"
    assert "trend" in info.value.message
    with pytest.raises(ConfigurationError):
        replace_unified_config({}, {})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        config_to_mapping({})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        build_unified_config({"capture": {"retry_attempts": "3"}})


# -- no-leak rule (contract §12.2): only ContextaError comes out ---------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_field_names = st.sampled_from(
    [
        "project_name",
        "workspace",
        "capture",
        "metadata",
        "records",
        "surfaces",
        "security",
        "retention",
        "interpretation",
        "config_version",
        "profile_name",
    ]
)
_anything = _json | st.builds(object) | st.binary(max_size=4) | st.just(float("nan"))


@_SETTINGS
@given(patch=st.dictionaries(_field_names | st.text(max_size=6), _json, max_size=4))
def test_build_unified_config_only_raises_contexta_errors(patch: dict[str, Any]) -> None:
    try:
        build_unified_config(patch)
    except ContextaError:
        pass


@_SETTINGS
@given(
    kwargs=st.fixed_dictionaries(
        {},
        optional={
            "profile": _anything,
            "overlays": _anything,
            "config": _anything,
            "workspace": _anything,
            "project_name": _anything,
            "env": st.dictionaries(
                st.sampled_from(
                    [
                        "CONTEXTA_PROJECT_NAME",
                        "CONTEXTA_SURFACES_HTTP_PORT",
                        "CONTEXTA_X",
                        "CONTEXTA_PROFILE",
                        "CONTEXTA_DATABASE_URL",
                        "CONTEXTA_RECORDS_ROOT_PATH",
                    ]
                ),
                st.text(max_size=12),
                max_size=3,
            ),
        },
    )
)
def test_load_config_only_raises_contexta_errors(kwargs: dict[str, Any]) -> None:
    try:
        load_config(use_env=True, **kwargs)
    except ContextaError:
        pass


@_SETTINGS
@given(value=_anything, name=st.sampled_from(["project_name", "workspace", "metadata"]))
def test_constructors_and_env_only_raise_contexta_errors(value: object, name: str) -> None:
    try:
        UnifiedConfig(**{name: value})
    except ContextaError:
        pass
    try:
        apply_env_overrides(UnifiedConfig(), env=value)  # type: ignore[arg-type]
    except ContextaError:
        pass
