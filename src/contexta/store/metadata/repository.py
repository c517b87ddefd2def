"""One generic repository; the named ones in ``repositories.py`` wrap it.

``put`` runs in one write transaction: check the parents, compare with the
stored row, then insert, update (legal update) or do nothing (identical).
Reads deserialize the stored canonical JSON, so they return exactly what was
written, fully validated.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, insert, select, update

from contexta.contract import StableRef, to_json
from contexta.errors import ContextaError, ValidationError, truncate_value
from contexta.store.metadata.entities import EntitySpec, ParentCheck
from contexta.store.metadata.errors import MetadataNotFoundError
from contexta.store.metadata.updates import check_update

if TYPE_CHECKING:
    from contexta.store.sql.engine import Database, HotStatement

__all__ = ["Repository", "coerce_ref", "hot_reads_ready"]

_log = logging.getLogger(__name__)


def coerce_ref(value: object, kind: str | None, argument: str = "ref") -> str:
    """Return the text of a ref argument, raising ``ValidationError`` when malformed."""
    if isinstance(value, StableRef):
        ref = value
    elif isinstance(value, str):
        try:
            ref = StableRef.parse(value)
        except ContextaError as error:
            msg = f"{argument}: {truncate_value(value)} is not a valid ref ({error.message})"
            raise ValidationError(
                msg,
                code=getattr(error, "code", "stable_ref_invalid_text"),
                details={
                    "field": argument,
                    "value": truncate_value(value),
                    "allowed": "kind:value",
                },
                cause=error,
            ) from error
    else:
        msg = f"{argument}: expected a ref string or StableRef, got {truncate_value(value)}"
        raise ValidationError(
            msg,
            code="stable_ref_invalid_text",
            details={
                "field": argument,
                "value": truncate_value(value),
                "allowed": "str | StableRef",
            },
        )
    if kind is not None and ref.kind != kind:
        msg = f"{argument}: {ref.text!r} has kind {ref.kind!r}; expected a {kind!r} ref"
        raise ValidationError(
            msg,
            code="stable_ref_kind_mismatch",
            details={"field": argument, "value": ref.text, "allowed": f"{kind}:..."},
        )
    return ref.text


def hot_reads_ready(db: Database) -> bool:
    """Whether point reads may use the raw per-thread connection.

    Only once the database is open: opening it from a read would create a workspace
    that does not exist yet, which ``Database.read`` avoids (contract.md §5.1).
    """
    return getattr(db, "_engine", None) is not None


class Repository:
    """put/get/find/exists/list for one entity."""

    def __init__(self, db: Database, spec: EntitySpec, on_write: Callable[[], None]) -> None:
        self._db = db
        self._spec = spec
        self._on_write = on_write
        self._model = spec.model
        self._parent_attrs = tuple(parent.attribute for parent in spec.parents)
        self._extra = getattr(self, "_extra_parent_checks", None)
        # The put's compiled statements, looked up once instead of per put.
        self._statements: tuple[HotStatement, HotStatement, HotStatement, bool] | None = None

    def _put_statements(self) -> tuple[HotStatement, HotStatement, HotStatement, bool]:
        found = self._statements
        if found is None:
            db, spec, table = self._db, self._spec, self._spec.table
            check = db.hot_statement(f"{table.name}.put_check", lambda: _put_check_query(spec))
            order = (*(f"parent_{i}" for i in range(len(spec.parents))), "ref")
            found = (
                check,
                db.hot_statement(f"{table.name}.insert", lambda: _insert_query(table)),
                db.hot_statement(f"{table.name}.update", lambda: _update_query(table)),
                check.positional and check.names == order,
            )
            self._statements = found
        return found

    # -- writes -----------------------------------------------------------
    def put(self, model: object) -> Any:
        spec = self._spec
        if not isinstance(model, spec.model):
            msg = f"put_{spec.name}: expected a {spec.model.__name__}, got {type(model).__name__}"
            raise ValidationError(
                msg,
                code="metadata_invalid_model",
                details={
                    "field": spec.name,
                    "value": truncate_value(model),
                    "allowed": spec.model.__name__,
                },
            )
        ref = str(getattr(model, spec.ref_attr))
        body = to_json(model)
        # One statement answers "do the parents exist?" and "what is stored?": a put
        # is a handful of point reads plus the write, and each round trip counts.
        check_stmt, insert_stmt, update_stmt, in_order = self._put_statements()
        parents = [getattr(model, attribute) for attribute in self._parent_attrs]
        texts = [None if value is None else str(value) for value in parents]
        texts.append(ref)
        params = (
            texts
            if in_order
            else check_stmt.params(
                {**{f"parent_{i}": v for i, v in enumerate(texts[:-1])}, "ref": ref}
            )
        )
        with self._db.raw_write(f"storing {ref}") as cur:
            cur.execute(check_stmt.sql, params)
            row = cur.fetchone()
            for i, value in enumerate(parents):
                if value is not None and row[i] is None:
                    raise self._missing(spec.parents[i], value)
            if self._extra is not None:
                self._extra(cur, model)
            stored = row[-1]
            if stored == body:
                return model
            values = {"ref": ref, "body": body, **spec.columns(model)}
            if stored is None:
                stmt = insert_stmt
            else:
                check_update(ref, json.loads(stored), json.loads(body), spec.rule)
                stmt = update_stmt
            cur.execute(stmt.sql, stmt.params(values))
        self._on_write()
        return model

    def _require(self, cur: Any, parent: ParentCheck, value: object) -> None:
        if value is None:
            return
        ref = str(value)
        stmt = self._db.hot_statement(
            f"{parent.table.name}.exists", lambda: _exists_query(parent.table)
        )
        cur.execute(stmt.sql, stmt.args(ref))
        if cur.fetchone() is None:
            raise self._missing(parent, value)

    def _missing(self, parent: ParentCheck, value: object) -> MetadataNotFoundError:
        ref = str(value)
        what = parent.code.removeprefix("metadata_missing_").replace("_", " ")
        msg = (
            f"{self._spec.name} {getattr(value, 'text', value)!s}: {parent.attribute} {ref!r} "
            f"does not exist; put the parent first ({what})"
        )
        return MetadataNotFoundError(
            msg,
            code=parent.code,
            details={"field": parent.attribute, "value": ref, "missing_ref": ref},
        )

    # -- reads ------------------------------------------------------------
    def find(self, ref: object) -> Any | None:
        # A point lookup on the raw per-thread connection: capture asks this at run
        # start, and a SQLAlchemy round trip costs ~10x the query itself.
        text = coerce_ref(ref, self._spec.kind)
        table = self._spec.table
        if hot_reads_ready(self._db):
            stmt = self._db.hot_statement(f"{table.name}.body", lambda: _body_query(table))
            rows = self._db.hot_query(stmt, (text,))
            body = rows[0][0] if rows else None
        else:
            with self._db.read() as conn:
                body = conn.execute(select(table.c.body).where(table.c.ref == text)).scalar()
        return None if body is None else self._load(body, text)

    def get(self, ref: object) -> Any:
        found = self.find(ref)
        if found is None:
            text = coerce_ref(ref, self._spec.kind)
            msg = f"{self._spec.name} {text!r} does not exist"
            raise MetadataNotFoundError(
                msg, code="metadata_row_not_found", details={"ref": text, "entity": self._spec.name}
            )
        return found

    def exists(self, ref: object) -> bool:
        text = coerce_ref(ref, self._spec.kind)
        table = self._spec.table
        if hot_reads_ready(self._db):
            stmt = self._db.hot_statement(f"{table.name}.exists", lambda: _exists_query(table))
            return bool(self._db.hot_query(stmt, (text,)))
        with self._db.read() as conn:
            return conn.execute(select(table.c.ref).where(table.c.ref == text)).first() is not None

    def list_where(self, *conditions: Any, order_by: Iterable[Any] = ()) -> tuple[Any, ...]:
        table = self._spec.table
        stmt = select(table.c.ref, table.c.body).where(*conditions).order_by(*order_by)
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        out = []
        for ref, body in rows:
            try:
                out.append(self._load(body, ref))
            except ContextaError:
                # One unreadable row never hides the others (contract.md §4.1);
                # check_integrity() reports it as unreadable_row.
                _log.warning("skipping unreadable %s row %s", self._spec.name, ref)
        return tuple(out)

    def _load(self, body: str, ref: str) -> Any:
        try:
            return self._spec.deserialize(body)
        except ContextaError as error:
            from contexta.errors import IntegrityError

            msg = f"stored {self._spec.name} {ref!r} is unreadable: {error.message}"
            raise IntegrityError(
                msg, code="unreadable_row", details={"ref": ref}, cause=error
            ) from error


def _body_query(table: Table) -> Any:
    return select(table.c.body).where(table.c.ref == bindparam("ref"))


def _put_check_query(spec: EntitySpec) -> Any:
    """``SELECT <parent 0 ref>, …, <stored body>`` for one put, each a scalar subquery."""
    columns = [
        select(parent.table.c.ref)
        .where(parent.table.c.ref == bindparam(f"parent_{i}"))
        .scalar_subquery()
        .label(f"parent_{i}")
        for i, parent in enumerate(spec.parents)
    ]
    columns.append(
        select(spec.table.c.body)
        .where(spec.table.c.ref == bindparam("ref"))
        .scalar_subquery()
        .label("stored_body")
    )
    return select(*columns)


def _exists_query(table: Table) -> Any:
    return select(table.c.ref).where(table.c.ref == bindparam("ref"))


def _insert_query(table: Table) -> Any:
    return insert(table).values({c.name: bindparam(c.name) for c in table.columns})


def _update_query(table: Table) -> Any:
    values = {c.name: bindparam(c.name) for c in table.columns if c.name != "ref"}
    return update(table).where(table.c.ref == bindparam("ref")).values(values)
