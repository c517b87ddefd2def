"""``load_config`` and its shortcuts: layered resolution (contract §9.1).

Order, later wins: built-in profile → overlays (canonical order) → config file
→ ``CONTEXTA_*`` environment → ``config`` mapping → ``project_name`` →
``workspace``. Each layer is a nested patch checked on its own, so an error
names the layer it came from; the merged patch is built once at the end, which
is when derived paths are made to follow the final workspace root.

Selectors (which profile and overlays): an explicit argument wins, then
``CONTEXTA_PROFILE``/``CONTEXTA_PROFILE_OVERLAYS``, then the file's ``profile``
and ``overlays`` keys, then ``local`` with no overlays.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from contexta.config import _specs as s
from contexta.config.env import (
    parse_overlay_names,
    parse_profile_name,
    read_env_patch,
    read_env_selectors,
)
from contexta.config.files import read_config_file
from contexta.config.mapping import build_section, merge_config_patch, normalize_patch
from contexta.config.profiles import profile_patch
from contexta.config.unified import UnifiedConfig
from contexta.errors import ConfigurationError

__all__ = [
    "ConfigInput",
    "OverlaysInput",
    "PathInput",
    "load_config",
    "load_profile",
    "make_local_config",
    "make_test_config",
]

PathInput = str | os.PathLike[str]
OverlaysInput = str | Sequence[str]
ConfigInput = UnifiedConfig | Mapping[str, Any]


def _check_ready_made(config: UnifiedConfig, others: Mapping[str, object]) -> UnifiedConfig:
    given = sorted(name for name, value in others.items() if value is not None)
    if given:
        msg = (
            "a ready-made UnifiedConfig cannot be combined with other configuration inputs "
            f"({', '.join(given)}); put those settings into the UnifiedConfig, or pass a "
            "mapping as config instead"
        )
        raise ConfigurationError(
            msg, code="config_conflicting_inputs", details={"field": "config", "others": given}
        )
    return config


def _arg_patch(workspace: PathInput | None, project_name: str | None) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    if project_name is not None:
        patch["project_name"] = project_name
    if workspace is not None:
        patch["workspace"] = {"root_path": workspace}
    return normalize_patch(UnifiedConfig, patch, source="arguments")


def load_config(
    *,
    profile: str | None = None,
    overlays: OverlaysInput | None = None,
    config_file: PathInput | None = None,
    config: ConfigInput | None = None,
    workspace: PathInput | None = None,
    project_name: str | None = None,
    env: Mapping[str, str] | None = None,
    use_env: bool = True,
) -> UnifiedConfig:
    """Resolve a ``UnifiedConfig`` from profile, overlays, file, environment and arguments.

    A ready-made ``UnifiedConfig`` as ``config`` is returned unchanged (the
    environment is never applied to it); combining it with any other input
    raises ``ConfigurationError`` (``config_conflicting_inputs``). With
    ``use_env`` and ``env=None`` the variables come from ``os.environ``.
    """
    if isinstance(config, UnifiedConfig):
        others = {
            "profile": profile,
            "overlays": overlays,
            "config_file": config_file,
            "workspace": workspace,
            "project_name": project_name,
            "env": env,
        }
        return _check_ready_made(config, others)
    if config is not None and not isinstance(config, Mapping):
        err = s.config_error("config", config, "a UnifiedConfig, a mapping of fields or None")
        raise err
    if not isinstance(use_env, bool):
        err = s.config_error("use_env", use_env, "true or false")
        raise err

    file = read_config_file(config_file) if config_file is not None else None
    file_source = f"config file {str(file.path)!r}" if file is not None else None
    env_profile, env_overlays = read_env_selectors(env) if use_env else (None, None)

    if profile is not None:
        chosen = parse_profile_name(profile, source="argument profile")
    elif env_profile is not None:
        chosen = env_profile
    elif file is not None and file.profile is not None:
        chosen = parse_profile_name(file.profile, source=file_source or "config file")
    else:
        chosen = "local"
    if overlays is not None:
        chosen_overlays = parse_overlay_names(overlays, source="argument overlays")
    elif env_overlays is not None:
        chosen_overlays = env_overlays
    elif file is not None and file.overlays is not None:
        chosen_overlays = parse_overlay_names(file.overlays, source=file_source or "config file")
    else:
        chosen_overlays = ()

    layers: list[Mapping[str, Any]] = [profile_patch(chosen, chosen_overlays)]
    if file is not None:
        layers.append(normalize_patch(UnifiedConfig, file.patch, source=file_source))
    if use_env:
        layers.append(read_env_patch(env))
    if config is not None:
        layers.append(normalize_patch(UnifiedConfig, config, source="config mapping"))
    layers.append(_arg_patch(workspace, project_name))

    merged: dict[str, Any] = {}
    for layer in layers:
        merged = merge_config_patch(merged, layer)
    return build_section(UnifiedConfig, merged, source="resolved configuration")


def load_profile(
    name: str,
    *,
    overlays: OverlaysInput = (),
    workspace: PathInput | None = None,
    project_name: str | None = None,
) -> UnifiedConfig:
    """A built-in profile plus overlays, without environment or file."""
    return load_config(
        profile=parse_profile_name(name, source="argument name"),
        overlays=overlays,
        workspace=workspace,
        project_name=project_name,
        use_env=False,
    )


def make_local_config(
    *,
    overlays: OverlaysInput | None = None,
    config_file: PathInput | None = None,
    config: ConfigInput | None = None,
    workspace: PathInput | None = None,
    project_name: str | None = None,
    env: Mapping[str, str] | None = None,
    use_env: bool = True,
) -> UnifiedConfig:
    """``load_config(profile="local", …)``."""
    return load_config(
        profile="local",
        overlays=overlays,
        config_file=config_file,
        config=config,
        workspace=workspace,
        project_name=project_name,
        env=env,
        use_env=use_env,
    )


def make_test_config(
    *,
    overlays: OverlaysInput | None = None,
    config_file: PathInput | None = None,
    config: ConfigInput | None = None,
    workspace: PathInput | None = None,
    project_name: str | None = None,
    env: Mapping[str, str] | None = None,
    use_env: bool = False,
) -> UnifiedConfig:
    """``load_config(profile="test", …)``; the environment is ignored by default."""
    return load_config(
        profile="test",
        overlays=overlays,
        config_file=config_file,
        config=config,
        workspace=workspace,
        project_name=project_name,
        env=env,
        use_env=use_env,
    )
