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
    from contexta.store.sql.engine import Database

__all__ = ["Repository", "coerce_ref"]

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


class Repository:
    """put/get/find/exists/list for one entity."""

    def __init__(self, db: Database, spec: EntitySpec, on_write: Callable[[], None]) -> None:
        self._db = db
        self._spec = spec
        self._on_write = on_write
        self._model = spec.model

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
        db = self._db
        table = spec.table
        body_stmt = db.hot_statement(f"{table.name}.body", lambda: _body_query(table))
        with db.raw_write(f"storing {ref}") as cur:
            self._check_parents(cur, model)
            cur.execute(body_stmt.sql, body_stmt.args(ref))
            found = cur.fetchone()
            stored = None if found is None else found[0]
            if stored == body:
                return model
            values = {"ref": ref, "body": body, **spec.columns(model)}
            if stored is None:
                stmt = db.hot_statement(f"{table.name}.insert", lambda: _insert_query(table))
            else:
                check_update(ref, json.loads(stored), json.loads(body), spec.rule)
                stmt = db.hot_statement(f"{table.name}.update", lambda: _update_query(table))
            cur.execute(stmt.sql, stmt.params(values))
        self._on_write()
        return model

    def _check_parents(self, cur: Any, model: object) -> None:
        for parent in self._spec.parents:
            self._require(cur, parent, getattr(model, parent.attribute))
        extra = getattr(self, "_extra_parent_checks", None)
        if extra is not None:
            extra(cur, model)

    def _require(self, cur: Any, parent: ParentCheck, value: object) -> None:
        if value is None:
            return
        ref = str(value)
        stmt = self._db.hot_statement(
            f"{parent.table.name}.exists", lambda: _exists_query(parent.table)
        )
        cur.execute(stmt.sql, stmt.args(ref))
        if cur.fetchone() is None:
            what = parent.code.removeprefix("metadata_missing_").replace("_", " ")
            msg = (
                f"{self._spec.name} {getattr(value, 'text', value)!s}: {parent.attribute} {ref!r} "
                f"does not exist; put the parent first ({what})"
            )
            raise MetadataNotFoundError(
                msg,
                code=parent.code,
                details={"field": parent.attribute, "value": ref, "missing_ref": ref},
            )

    # -- reads ------------------------------------------------------------
    def find(self, ref: object) -> Any | None:
        text = coerce_ref(ref, self._spec.kind)
        table = self._spec.table
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


def _exists_query(table: Table) -> Any:
    return select(table.c.ref).where(table.c.ref == bindparam("ref"))


def _insert_query(table: Table) -> Any:
    return insert(table).values({c.name: bindparam(c.name) for c in table.columns})


def _update_query(table: Table) -> Any:
    values = {c.name: bindparam(c.name) for c in table.columns if c.name != "ref"}
    return update(table).where(table.c.ref == bindparam("ref")).values(values)
