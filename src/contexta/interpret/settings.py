"""Resolve the policies an interpretation service needs from whatever config it was given.

Services accept ``config=`` in the reference shapes (contract §2.8): ``None``, a whole
``UnifiedConfig`` or ``InterpretationConfig``, or the one policy class named after the
service. This module turns any of those into the policy objects of ``contexta.config``, so
each default has exactly one home (the config classes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contexta.config.interpretation import (
    AnomalyPolicy,
    ComparisonPolicy,
    DiagnosticsPolicy,
    InterpretationConfig,
    TrendPolicy,
)
from contexta.errors import ConfigurationError, truncate_value

__all__ = ["AnalysisSettings", "resolve_settings"]

_POLICY_SLOTS = {
    ComparisonPolicy: "comparison",
    DiagnosticsPolicy: "diagnostics",
    TrendPolicy: "trend",
    AnomalyPolicy: "anomaly",
}


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """The policies the interpretation services read, resolved once at construction."""

    comparison: ComparisonPolicy
    diagnostics: DiagnosticsPolicy
    trend: TrendPolicy
    anomaly: AnomalyPolicy


def resolve_settings(config: Any = None, **overrides: Any) -> AnalysisSettings:
    """Settings from ``config`` (see module doc); ``overrides`` replace single policies."""
    if isinstance(config, AnalysisSettings) and not overrides:
        return config
    interpretation = _interpretation_of(config)
    parts: dict[str, Any] = {
        "comparison": interpretation.comparison,
        "diagnostics": interpretation.diagnostics,
        "trend": interpretation.trend,
        "anomaly": interpretation.anomaly,
    }
    policy_slot = _POLICY_SLOTS.get(type(config))
    if policy_slot is not None:
        parts[policy_slot] = config
    for name, value in overrides.items():
        if value is not None:
            parts[name] = value
    return AnalysisSettings(**parts)


def _interpretation_of(config: Any) -> InterpretationConfig:
    if config is None or type(config) in _POLICY_SLOTS:
        return InterpretationConfig()
    if isinstance(config, AnalysisSettings):
        return InterpretationConfig(
            comparison=config.comparison,
            diagnostics=config.diagnostics,
            trend=config.trend,
            anomaly=config.anomaly,
        )
    if isinstance(config, InterpretationConfig):
        return config
    nested = getattr(config, "interpretation", None)
    if isinstance(nested, InterpretationConfig):
        return nested
    message = (
        "config must be None, a UnifiedConfig, an InterpretationConfig or one of "
        "ComparisonPolicy/DiagnosticsPolicy/TrendPolicy/AnomalyPolicy; "
        f"got {truncate_value(config)}"
    )
    raise ConfigurationError(
        message,
        code="config_invalid_value",
        details={
            "field": "config",
            "value": truncate_value(config),
            "allowed": "UnifiedConfig, InterpretationConfig or a policy object",
        },
    )
