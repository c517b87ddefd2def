"""The workspace schema, written once for every backend.

Each entity table keeps the canonical JSON of its model in ``body`` (the source
of truth, so a read returns exactly what was written) plus the hot columns the
read paths filter and sort on. Times that are compared are also kept as epoch
microseconds (``*_us``) so every ordering is by instant, never by string.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["SCHEMA_VERSION", "metadata_obj", "tables"]

SCHEMA_VERSION = "1"

metadata_obj = MetaData()

schema_info = Table(
    "contexta_schema",
    metadata_obj,
    Column("plane", String(32), primary_key=True),
    Column("version", String(32), nullable=False),
)

migration_history = Table(
    "contexta_migrations",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("applied_at", String(40), nullable=False),
)

projects = Table(
    "projects",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("project_ref", String(255), nullable=False),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("ended_us", BigInteger),
    Column("body", Text, nullable=False),
    Index("ix_runs_project_started", "project_ref", "started_us", "ref"),
)

deployments = Table(
    "deployments",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("project_ref", String(255), nullable=False),
    Column("run_ref", String(255)),
    Column("started_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_deployments_project", "project_ref", "started_us"),
    Index("ix_deployments_run", "run_ref", "started_us"),
)

stages = Table(
    "stages",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("run_ref", String(255), nullable=False),
    Column("name", String(63), nullable=False),
    Column("order_index", BigInteger),
    Column("started_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_stages_run", "run_ref"),
)

batches = Table(
    "batches",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("run_ref", String(255), nullable=False),
    Column("stage_ref", String(255), nullable=False),
    Column("order_index", BigInteger),
    Column("started_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_batches_run", "run_ref"),
    Index("ix_batches_stage", "stage_ref"),
)


def _observation_table(name: str) -> Table:
    return Table(
        name,
        metadata_obj,
        Column("ref", String(255), primary_key=True),
        Column("run_ref", String(255), nullable=False),
        Column("stage_ref", String(255), nullable=False),
        Column("batch_ref", String(255)),
        Column("observed_us", BigInteger, nullable=False),
        Column("body", Text, nullable=False),
        Index(f"ix_{name}_run", "run_ref"),
        Index(f"ix_{name}_stage", "stage_ref"),
    )


samples = _observation_table("samples")
operations = _observation_table("operations")

environments = Table(
    "environments",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("run_ref", String(255), nullable=False),
    Column("captured_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_environments_run", "run_ref"),
)

relations = Table(
    "relations",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("source_ref", String(255), nullable=False),
    Column("target_ref", String(255), nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_relations_source", "source_ref"),
    Index("ix_relations_target", "target_ref"),
)

provenance = Table(
    "provenance",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("relation_ref", String(255), nullable=False),
    Column("asserted_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_provenance_relation", "relation_ref"),
)

# Records: one row per record. ``value_int``/``value_real``/``value_text`` keep a
# metric value exactly (SQLite turns NaN into NULL and REAL loses big ints).
records = Table(
    "records",
    metadata_obj,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("record_ref", String(255), nullable=False, unique=True),
    Column("record_type", String(16), nullable=False),
    Column("run_ref", String(255), nullable=False),
    Column("stage_ref", String(255)),
    Column("batch_ref", String(255)),
    Column("sample_ref", String(255)),
    Column("operation_ref", String(255)),
    Column("deployment_ref", String(255)),
    Column("key", String(255), nullable=False),
    Column("value_int", BigInteger),
    Column("value_real", Float),
    Column("value_text", String(32)),
    Column("step", BigInteger),
    Column("observed_at", String(40), nullable=False),
    Column("observed_us", BigInteger, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
    Column("completeness", String(16), nullable=False),
    Column("degradation", String(32), nullable=False),
    Column("producer", String(255), nullable=False),
    Column("severity", String(16)),
    Column("tags", Text),
    Column("appended_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_records_run_seq", "run_ref", "seq"),
    Index("ix_records_run_type_key", "run_ref", "record_type", "key"),
    Index("ix_records_stage", "stage_ref"),
    Index("ix_records_batch", "batch_ref"),
)

# Problems found while indexing spools written by several processes (for
# example the same record ref appended with different content at the same
# time). Kept for check_integrity(); nothing is ever silently dropped.
record_anomalies = Table(
    "record_anomalies",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False),
    Column("record_ref", String(255)),
    Column("message", Text, nullable=False),
    Column("body", Text),
    Column("found_us", BigInteger, nullable=False),
)

spool_progress = Table(
    "spool_progress",
    metadata_obj,
    Column("spool", String(255), primary_key=True),
    Column("offset", BigInteger, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata_obj,
    Column("ref", String(255), primary_key=True),
    Column("run_ref", String(255), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("hash_value", String(80), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("binding", Text, nullable=False),
    Column("manifest", Text, nullable=False),
    Index("ix_artifacts_run", "run_ref", "created_us"),
)

tables = {
    t.name: t
    for t in (
        projects,
        runs,
        deployments,
        stages,
        batches,
        samples,
        operations,
        environments,
        relations,
        provenance,
        records,
        record_anomalies,
        spool_progress,
        artifacts,
    )
}
