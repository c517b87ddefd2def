"""Built-in profiles and overlays as config patches (contract §9.3)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from contexta.config.mapping import merge_config_patch

__all__ = ["OVERLAY_PATCHES", "PROFILE_PATCHES", "profile_patch"]

PROFILE_PATCHES: MappingProxyType[str, dict[str, Any]] = MappingProxyType(
    {
        "local": {"profile_name": "local"},
        "test": {
            "profile_name": "test",
            "project_name": "test",
            "workspace": {"root_path": ".contexta-test"},
            "capture": {
                "capture_environment_snapshot": False,
                "capture_installed_packages": False,
                "capture_code_revision": False,
                "dispatch_failure_mode": "raise",
            },
            "artifacts": {"verification_mode": "strict"},
            "surfaces": {"html": {"enabled": False}},
            "security": {"redaction_mode": "strict"},
        },
    }
)

OVERLAY_PATCHES: MappingProxyType[str, dict[str, Any]] = MappingProxyType(
    {
        "debug": {
            "surfaces": {"cli": {"verbosity": "debug"}},
            "interpretation": {
                "diagnostics": {"detect_degraded_records": True},
                "reports": {"include_evidence_summary": True},
            },
        },
        "forensic": {
            "surfaces": {"cli": {"verbosity": "forensic"}},
            "interpretation": {
                "reports": {"include_lineage_summary": True, "include_evidence_summary": True}
            },
        },
        "ci": {
            "surfaces": {"cli": {"default_output_format": "json", "color": False}},
            "capture": {"retry_attempts": 0},
        },
        "readonly": {
            "metadata": {"read_only": True},
            "records": {"read_only": True},
            "artifacts": {"read_only": True},
        },
    }
)


def profile_patch(profile: str, overlays: tuple[str, ...] = ()) -> dict[str, Any]:
    """Patch of a validated profile plus overlays (already in canonical order)."""
    patch = merge_config_patch(PROFILE_PATCHES[profile], None)
    for name in overlays:
        patch = merge_config_patch(patch, OVERLAY_PATCHES[name])
    return patch
