"""Translate driver errors into contexta errors, in one place (style.md "Errors").

Every database call of the store goes through ``translate_errors`` so that no
``sqlite3``/``psycopg``/SQLAlchemy exception reaches a user: contention becomes
``store_busy`` (retryable), a full disk ``store_disk_full``, everything else
``store_io_error``, always with the original exception chained.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from contexta.errors import ContextaError, ReadOnlyStoreError, StoreAccessError

__all__ = ["classify_os_error", "translate_errors"]


def classify_os_error(error: OSError, action: str, path: object = None) -> StoreAccessError:
    """Map an ``OSError`` from file I/O to a ``StoreAccessError`` with a stable code."""
    code = "store_disk_full" if error.errno in (errno.ENOSPC, errno.EDQUOT) else "store_io_error"
    where = f" at {path}" if path is not None else ""
    msg = f"{action} failed{where}: {error.strerror or error}"
    if code == "store_disk_full":
        msg = (
            f"{action} failed{where}: the disk is full (free space, then retry; "
            "nothing acknowledged was lost)"
        )
    return StoreAccessError(
        msg,
        code=code,
        details={"errno": error.errno, "path": str(path) if path is not None else None},
        retryable=code == "store_disk_full",
        cause=error,
    )


def _classify_db_error(error: BaseException, action: str) -> ContextaError:
    text = str(getattr(error, "orig", None) or error).lower()
    orig = getattr(error, "orig", None)
    os_errno = getattr(orig, "sqlite_errorcode", None)
    if "locked" in text or "busy" in text or "could not obtain lock" in text:
        return StoreAccessError(
            f"{action} failed: the workspace stayed busy for 30 s "
            "(another process holds the write lock)",
            code="store_busy",
            details={"errno": os_errno},
            retryable=True,
            cause=error,
        )
    if "disk is full" in text or "no space" in text or "database or disk is full" in text:
        return StoreAccessError(
            f"{action} failed: the disk is full (free space, then retry; "
            "nothing acknowledged was lost)",
            code="store_disk_full",
            details={"errno": errno.ENOSPC},
            retryable=True,
            cause=error,
        )
    if "readonly" in text or "read-only" in text or "read only" in text:
        return ReadOnlyStoreError(
            f"{action} failed: the workspace database is read-only ({text})",
            code="store_read_only",
            cause=error,
        )
    if "unable to open" in text:
        return StoreAccessError(
            f"{action} failed: the workspace database cannot be opened ({text})",
            code="store_missing",
            cause=error,
        )
    return StoreAccessError(
        f"{action} failed: {text}", code="store_io_error", details={"errno": os_errno}, cause=error
    )


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Re-raise database and OS errors met during ``action`` as contexta errors."""
    import sqlite3

    try:
        yield
    except ContextaError:
        raise
    except (sa_exc.DBAPIError, sqlite3.Error) as error:
        raise _classify_db_error(error, action) from error
    except sa_exc.SQLAlchemyError as error:
        msg = f"{action} failed: {error}"
        raise StoreAccessError(msg, code="store_io_error", cause=error) from error
    except OSError as error:
        raise classify_os_error(error, action) from error
