"""Context models: projects, runs, deployments, stages, batches, samples, operations,
environment snapshots (contract.md §3.6.1).

Each constructor normalizes (refs to ``StableRef``, timestamps to canonical strings,
mappings to sorted read-only mappings) and checks the ownership rules between refs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contexta.contract._base import ContractModel, model
from contexta.contract._errors import add_owner, fail
from contexta.contract._fields import (
    set_common,
    set_json_field,
    set_optional_ref,
    set_ref,
    set_timestamp,
)
from contexta.contract._lifecycle import check_lifecycle, check_optional_count
from contexta.contract._owners import check_named_child, check_prefix
from contexta.contract.enums import SCHEMA_VERSION
from contexta.contract.extensions import ExtensionFieldSet
from contexta.contract.refs import StableRef
from contexta.contract.text import (
    check_component,
    check_display_name,
    check_free_text,
    check_short_text,
    check_token,
    freeze_str_mapping,
)
from contexta.errors import ContractError

__all__ = [
    "BatchExecution",
    "DeploymentExecution",
    "EnvironmentSnapshot",
    "OperationContext",
    "Project",
    "Run",
    "SampleObservation",
    "StageExecution",
]

_set = object.__setattr__
_Extensions = tuple[ExtensionFieldSet, ...]
_Ref = StableRef | str
_GIT_HEX = frozenset("0123456789abcdefABCDEF")


@model(
    project_ref="R", name="v", created_at="s", description="v", tags="m",
    schema_version="s", extensions="x",
)  # fmt: skip
class Project(ContractModel):
    project_ref: _Ref
    name: str
    created_at: str
    description: str | None = None
    tags: Mapping[str, str] | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()

    def __post_init__(self) -> None:
        try:
            set_ref(self, "project_ref", "project")
            check_display_name(self.name, "name")
            set_timestamp(self, "created_at")
            if self.description is not None:
                check_free_text(self.description, "description")
            _set(self, "tags", freeze_str_mapping(self.tags, "tags"))
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "Project") from None


@model(
    run_ref="R", project_ref="R", name="v", status="s", started_at="s", ended_at="so",
    description="v", schema_version="s", extensions="x", tags="m", metadata="m",
)  # fmt: skip
class Run(ContractModel):
    run_ref: _Ref
    project_ref: _Ref
    name: str
    status: str
    started_at: str
    ended_at: str | None = None
    description: str | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()
    tags: Mapping[str, str] | None = None
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        try:
            run = set_ref(self, "run_ref", "run")
            project = set_ref(self, "project_ref", "project")
            check_prefix(run, project, 1, "run_ref", "project_ref")
            check_display_name(self.name, "name")
            check_lifecycle(self)
            if self.description is not None:
                check_free_text(self.description, "description")
            _set(self, "tags", freeze_str_mapping(self.tags, "tags"))
            set_json_field(self, "metadata")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "Run") from None


@model(
    deployment_execution_ref="R", project_ref="R", deployment_name="s", status="s",
    started_at="s", ended_at="so", order_index="i", run_ref="r", artifact_ref="r",
    environment_snapshot_ref="r", schema_version="s", extensions="x", metadata="m",
)  # fmt: skip
class DeploymentExecution(ContractModel):
    deployment_execution_ref: _Ref
    project_ref: _Ref
    deployment_name: str
    status: str
    started_at: str
    ended_at: str | None = None
    order_index: int | None = None
    run_ref: _Ref | None = None
    artifact_ref: _Ref | None = None
    environment_snapshot_ref: _Ref | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        try:
            ref = set_ref(self, "deployment_execution_ref", "deployment")
            project = set_ref(self, "project_ref", "project")
            name = check_component(self.deployment_name, "deployment_name")
            check_named_child(ref, project, name, "deployment_execution_ref", "project_ref")
            check_lifecycle(self)
            check_optional_count(self, "order_index")
            run = set_optional_ref(self, "run_ref", "run")
            if run is not None:
                check_prefix(run, project, 1, "run_ref", "project_ref")
            artifact = set_optional_ref(self, "artifact_ref", "artifact")
            if artifact is not None:
                check_prefix(artifact, project, 1, "artifact_ref", "project_ref")
            set_optional_ref(self, "environment_snapshot_ref", "environment")
            set_json_field(self, "metadata")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "DeploymentExecution") from None


@model(
    stage_execution_ref="R", run_ref="R", stage_name="s", status="s", started_at="s",
    ended_at="so", order_index="i", schema_version="s", extensions="x", metadata="m",
)  # fmt: skip
class StageExecution(ContractModel):
    stage_execution_ref: _Ref
    run_ref: _Ref
    stage_name: str
    status: str
    started_at: str
    ended_at: str | None = None
    order_index: int | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        try:
            stage = set_ref(self, "stage_execution_ref", "stage")
            run = set_ref(self, "run_ref", "run")
            name = check_component(self.stage_name, "stage_name")
            check_named_child(stage, run, name, "stage_execution_ref", "run_ref")
            check_lifecycle(self)
            check_optional_count(self, "order_index")
            set_json_field(self, "metadata")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "StageExecution") from None


@model(
    batch_execution_ref="R", run_ref="R", stage_execution_ref="R", batch_name="s",
    status="s", started_at="s", ended_at="so", order_index="i", schema_version="s",
    extensions="x", metadata="m",
)  # fmt: skip
class BatchExecution(ContractModel):
    batch_execution_ref: _Ref
    run_ref: _Ref
    stage_execution_ref: _Ref
    batch_name: str
    status: str
    started_at: str
    ended_at: str | None = None
    order_index: int | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        try:
            batch = set_ref(self, "batch_execution_ref", "batch")
            run = set_ref(self, "run_ref", "run")
            stage = set_ref(self, "stage_execution_ref", "stage")
            check_prefix(stage, run, 2, "stage_execution_ref", "run_ref")
            name = check_component(self.batch_name, "batch_name")
            check_named_child(batch, stage, name, "batch_execution_ref", "stage_execution_ref")
            check_lifecycle(self)
            check_optional_count(self, "order_index")
            set_json_field(self, "metadata")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "BatchExecution") from None


def _check_observed_child(obj: Any, ref_field: str, kind: str, name_field: str) -> None:
    """Samples and operations: owner is the batch when given, else the stage."""
    ref = set_ref(obj, ref_field, kind)
    run = set_ref(obj, "run_ref", "run")
    stage = set_ref(obj, "stage_execution_ref", "stage")
    check_prefix(stage, run, 2, "stage_execution_ref", "run_ref")
    name = check_component(obj.__getattribute__(name_field), name_field)
    batch = set_optional_ref(obj, "batch_execution_ref", "batch")
    if batch is not None:
        check_prefix(batch, stage, 3, "batch_execution_ref", "stage_execution_ref")
        if len(batch._components) != 4:
            fail("stable_ref_invalid_shape", "batch_execution_ref", batch, "batch:P.R.S.B")
        check_named_child(ref, batch, name, ref_field, "batch_execution_ref")
    else:
        check_named_child(ref, stage, name, ref_field, "stage_execution_ref")
    set_timestamp(obj, "observed_at")
    set_json_field(obj, "metadata")
    set_common(obj)


@model(
    sample_observation_ref="R", run_ref="R", stage_execution_ref="R", sample_name="s",
    observed_at="s", batch_execution_ref="r", retention_class="so", redaction_profile="so",
    schema_version="s", extensions="x", metadata="m",
)  # fmt: skip
class SampleObservation(ContractModel):
    sample_observation_ref: _Ref
    run_ref: _Ref
    stage_execution_ref: _Ref
    sample_name: str
    observed_at: str
    batch_execution_ref: _Ref | None = None
    retention_class: str | None = None
    redaction_profile: str | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        try:
            _check_observed_child(self, "sample_observation_ref", "sample", "sample_name")
            if self.retention_class is not None:
                check_token(self.retention_class, "retention_class")
            if self.redaction_profile is not None:
                check_token(self.redaction_profile, "redaction_profile")
        except ContractError as err:
            raise add_owner(err, "SampleObservation") from None


@model(
    operation_context_ref="R", run_ref="R", stage_execution_ref="R", operation_name="s",
    observed_at="s", batch_execution_ref="r", schema_version="s", extensions="x",
    metadata="m",
)  # fmt: skip
class OperationContext(ContractModel):
    operation_context_ref: _Ref
    run_ref: _Ref
    stage_execution_ref: _Ref
    operation_name: str
    observed_at: str
    batch_execution_ref: _Ref | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()
    metadata: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        try:
            _check_observed_child(self, "operation_context_ref", "op", "operation_name")
        except ContractError as err:
            raise add_owner(err, "OperationContext") from None


@model(
    environment_snapshot_ref="R", run_ref="R", captured_at="s", python_version="v",
    platform="v", packages="m", environment_variables="m", schema_version="s",
    extensions="x", hostname="v", git_commit="so", git_dirty="v",
)  # fmt: skip
class EnvironmentSnapshot(ContractModel):
    environment_snapshot_ref: _Ref
    run_ref: _Ref
    captured_at: str
    python_version: str
    platform: str
    packages: Mapping[str, str] | None = None
    environment_variables: Mapping[str, str] | None = None
    schema_version: str = SCHEMA_VERSION
    extensions: _Extensions = ()
    hostname: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None

    def __post_init__(self) -> None:
        try:
            ref = set_ref(self, "environment_snapshot_ref", "environment")
            run = set_ref(self, "run_ref", "run")
            check_prefix(ref, run, 2, "environment_snapshot_ref", "run_ref")
            set_timestamp(self, "captured_at")
            check_short_text(self.python_version, "python_version", 64)
            check_short_text(self.platform, "platform", 255)
            _set(self, "packages", freeze_str_mapping(self.packages, "packages", max_value_len=255))
            env = freeze_str_mapping(
                self.environment_variables, "environment_variables", max_value_len=100_000
            )
            _set(self, "environment_variables", env)
            if self.hostname is not None:
                check_short_text(self.hostname, "hostname", 255)
            commit = self.git_commit
            if commit is not None and (
                not isinstance(commit, str)
                or not 7 <= len(commit) <= 64
                or not _GIT_HEX.issuperset(commit)
            ):
                fail("context_invalid_string", "git_commit", commit, "None or 7-64 hex characters")
            if self.git_dirty is not None and type(self.git_dirty) is not bool:
                fail("context_invalid_string", "git_dirty", self.git_dirty, "None, True or False")
            set_common(self)
        except ContractError as err:
            raise add_owner(err, "EnvironmentSnapshot") from None
