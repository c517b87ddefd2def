"""Validation reports and the extension registry (contract.md §3.9)."""

from __future__ import annotations

import pytest

import contexta.contract as contract
from contexta.contract import (
    ExtensionFieldSet,
    ExtensionRegistry,
    ExtensionRegistryEntry,
    Run,
    ValidationIssue,
    ValidationReport,
    deserialize_run,
    to_json,
    validate_extension_field_set,
    validate_run,
)
from contexta.errors import ContractError, SerializationError, ValidationError

T0 = "2025-01-01T00:00:00Z"
EXT = ExtensionFieldSet("acme.tracking", {"job_id": 7, "tags": ["a"]}, ("job_id",))


def _run(**kw: object) -> Run:
    base: dict[str, object] = {
        "run_ref": "run:p.r",
        "project_ref": "project:p",
        "name": "n",
        "status": "open",
        "started_at": T0,
        "extensions": (EXT,),
    }
    return Run(**{**base, **kw})  # type: ignore[arg-type]


REGISTRY = ExtensionRegistry(
    (
        ExtensionRegistryEntry(
            namespace="acme.tracking",
            ownership_class="plugin",
            owner_slug="acme",
            status="active",
            target_models=("Run",),
        ),
    )
)


def test_valid_model_report() -> None:
    report = validate_run(_run())
    assert report.valid
    assert report.issues == ()
    assert report.to_dict() == {"valid": True, "issues": []}
    report.raise_for_errors()


def test_corrupted_model_is_reported_not_raised() -> None:
    run = _run()
    object.__setattr__(run, "status", "bogus")
    report = validate_run(run)
    assert not report.valid
    assert report.errors[0].code == "context_invalid_status"
    assert report.errors[0].path == "status"
    with pytest.raises(ValidationError) as info:
        report.raise_for_errors()
    assert info.value.code == "context_invalid_status"


def test_wrong_type_is_reported() -> None:
    report = validate_run("run:p.r")
    assert not report.valid
    assert validate_extension_field_set(EXT).valid


def test_registry_checks_namespaces_per_model() -> None:
    assert validate_run(_run(), registry=REGISTRY).valid
    other = ExtensionFieldSet("other.ns", {"x": 1})
    report = validate_run(_run(extensions=(EXT, other)), registry=REGISTRY)
    assert [i.code for i in report.errors] == ["extension_unregistered_namespace"]
    assert report.errors[0].path == "extensions[1].namespace"
    # Without a registry, registration is not checked.
    assert validate_run(_run(extensions=(other,))).valid


def test_deserialize_with_registry_rejects_unregistered() -> None:
    text = to_json(_run(extensions=(ExtensionFieldSet("other.ns", {"x": 1}),)))
    with pytest.raises(SerializationError):
        deserialize_run(text, registry=REGISTRY)
    assert deserialize_run(to_json(_run()), registry=REGISTRY) == _run()


def test_report_helpers() -> None:
    warn = ValidationIssue("w", "a", "careful", severity="warning")
    err = ValidationIssue("e", "", "broken")
    assert not warn.is_error
    assert err.is_error
    assert err.with_prefix("run").path == "run"
    assert warn.with_prefix("run").path == "run.a"
    report = ValidationReport.merge(ValidationReport.ok(), ValidationReport.from_issues([warn]))
    assert report.valid
    assert report.warnings == (warn,)
    bad = ValidationReport.from_issues([warn, err]).prefixed("x")
    assert not bad.valid
    assert [i.path for i in bad.issues] == ["x.a", "x"]
    assert bad.to_dict()["issues"][1] == {
        "code": "e",
        "path": "x",
        "message": "broken",
        "severity": "error",
    }
    with pytest.raises(ContractError):
        ValidationIssue("c", "p", "m", severity="fatal")


def test_extension_helpers() -> None:
    merged = EXT.merge_fields({"extra": True})
    assert merged.fields["extra"] is True
    assert merged.readonly_fields == ("job_id",)
    with pytest.raises(ContractError) as info:
        EXT.merge_fields({"job_id": 8})
    assert info.value.code == "extension_invalid_namespace"
    assert EXT.merge_fields({"job_id": 7}) == EXT
    more = EXT.with_additional_readonly_fields(["tags"])
    assert more.readonly_fields == ("job_id", "tags")
    with pytest.raises(ContractError):
        ExtensionFieldSet("acme.x", {})
    with pytest.raises(ContractError):
        ExtensionFieldSet("acme.x", {"BadKey": 1})
    with pytest.raises(ContractError):
        ExtensionFieldSet("acme.x", {"a": 1}, ("b",))
    with pytest.raises(ContractError):
        ExtensionRegistryEntry("acme.x", "core", "acme", "active", ("Run",))
    assert contract.deserialize_extension_field_set(to_json(EXT)) == EXT
    assert REGISTRY.get("acme.tracking") is not None
    assert REGISTRY.is_registered("acme.tracking", "Run")
    assert not REGISTRY.is_registered("acme.tracking", "Project")
