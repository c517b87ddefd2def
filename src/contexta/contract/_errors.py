"""How contract validation fails: one helper so every message has the same shape.

Every bad value raises ``ContractError`` (also a ``ValidationError``) whose message
names the field, the truncated value and what is allowed (contract.md §3.1, §12.2).
"""

from __future__ import annotations

from typing import NoReturn

from contexta.errors import ContractError, truncate_value

__all__ = ["fail"]


def fail(code: str, field: str, value: object, allowed: str, reason: str = "") -> NoReturn:
    """Raise the contract error for ``field``; ``allowed`` says what would have passed."""
    shown = truncate_value(value)
    why = reason or "value not allowed"
    message = f"invalid {field}: {why}; got {shown}; allowed: {allowed}"
    raise ContractError(
        message, code=code, details={"field": field, "value": shown, "allowed": allowed}
    )


def add_owner(err: ContractError, owner: str) -> ContractError:
    """Prefix the model name to a message raised while building ``owner``."""
    if not err.message.startswith(owner + ": "):
        err.message = f"{owner}: {err.message}"
        err.args = (err.message,)
    return err
