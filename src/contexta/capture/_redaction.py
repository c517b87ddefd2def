"""Redaction of secret-looking keys in captured mappings (contract §8.7).

Besides key names, command lines and environment values are scanned for secrets
written inside text: a URL password (``scheme://user:password@host``) whatever the
flag or variable that carries it, and the value of a secret-named ``key=value``
assignment (``PASSWORD=x``, ``?access_token=x``, ``&password=x``, libpq's
``host=h password=x``). Only the value is masked; the key stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["REDACTED", "Redactor", "mask_url_passwords"]

REDACTED = "[REDACTED]"


_SCALARS = frozenset({str, int, float, bool, type(None)})
_MAX_REMEMBERED = 4096
# scheme://user:password@ — the password runs to the last "@" before the path, so an
# unescaped "@" inside it is masked too.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:)"
                           r"(?P<password>[^\s/?#]+)@")


# key=value at the start, after whitespace or after a query/parameter separator; the
# value is a quoted string or runs to the next separator (``&``, ``#``, ``;``, space).
_ASSIGNMENT = re.compile(r"(?:^|(?<=[\s?&;]))(?P<key>-{0,2}[A-Za-z_][A-Za-z0-9_.-]*)="
                         r"(?P<value>'(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|[^\s&#;]*)")


def mask_url_passwords(text: str) -> str:
    """``text`` with every URL userinfo password replaced by ``[REDACTED]``."""
    if "://" not in text:
        return text  # the common case: no URL, no regex scan
    return _URL_PASSWORD.sub(lambda match: f"{match.group('head')}{REDACTED}@", text)


class Redactor:
    """Applies ``security.redaction_mode`` to environment variables and capture mappings.

    Capture redacts the tags of every metric, so the verdict per key name is remembered
    (key names repeat: ``dataset``, ``column``, …) instead of re-scanning the patterns.
    """

    __slots__ = ("_verdicts", "allowlist", "mode", "patterns")

    def __init__(self, mode: str, patterns: Sequence[str], allowlist: Sequence[str]) -> None:
        self.mode = mode
        self.patterns = tuple(pattern.lower() for pattern in patterns if pattern)
        self.allowlist = frozenset(allowlist)
        self._verdicts: dict[str, bool] = {}

    @classmethod
    def from_config(cls, config: Any) -> Redactor:
        security = config.security
        return cls(security.redaction_mode, security.secret_key_patterns,
                   security.environment_variable_allowlist)

    def is_secret(self, name: str) -> bool:
        verdict = self._verdicts.get(name)
        if verdict is None:
            lowered = name.lower()
            verdict = any(pattern in lowered for pattern in self.patterns)
            if len(self._verdicts) < _MAX_REMEMBERED and type(name) is str:
                self._verdicts[name] = verdict
        return verdict

    def environment(self, environ: Mapping[str, str]) -> dict[str, str]:
        """``safe_default``: all, secrets masked; ``strict``: allowlist only; ``off``: verbatim."""
        if self.mode == "off":
            return dict(environ)
        if self.mode == "strict":
            return {name: value for name, value in environ.items() if name in self.allowlist}
        return {name: self._environment_value(name, value) for name, value in environ.items()}

    def _environment_value(self, name: str, value: str) -> str:
        """Allowlisted: verbatim (§8.7); secret-looking name: masked; else URL passwords."""
        if name in self.allowlist:
            return value
        if self.is_secret(name):
            return REDACTED
        return self.mask_secrets(value)

    def text(self, value: str) -> str:
        """Free text (a command-line word): secrets masked unless redaction is off."""
        return value if self.mode == "off" else self.mask_secrets(value)

    def mask_secrets(self, text: str) -> str:
        """``text`` with URL passwords and values of secret-named assignments masked."""
        text = mask_url_passwords(text)
        if "=" not in text:
            return text  # the common case: no assignment, no regex scan
        return _ASSIGNMENT.sub(self._masked_assignment, text)

    def _masked_assignment(self, match: re.Match[str]) -> str:
        """``key=[REDACTED]`` for a secret-looking key with a value; else unchanged."""
        key = match.group("key")
        if not match.group("value") or not self.is_secret(key.lstrip("-")):
            return match.group(0)
        return f"{key}={REDACTED}"

    def mapping(self, values: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """Mask values under secret-looking keys at any depth; ``None`` stays ``None``."""
        if not values or self.mode == "off":
            return values
        if not isinstance(values, Mapping):
            return values  # the model rejects it with a proper error
        if type(values) is dict and self._flat_and_clean(values):
            return values  # tags, usually: nothing to mask, no copy needed
        return self._walk(values)  # type: ignore[no-any-return]

    def _flat_and_clean(self, values: dict[Any, Any]) -> bool:
        is_secret = self.is_secret
        for key, item in values.items():
            if type(item) not in _SCALARS or type(key) is not str or is_secret(key):
                return False
        return True

    def _walk(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if isinstance(key, str) and self.is_secret(key):
                    out[key] = REDACTED
                elif type(item) in _SCALARS:
                    out[key] = item
                else:
                    out[key] = self._walk(item)
            return out
        if isinstance(value, list | tuple):
            return [item if type(item) in _SCALARS else self._walk(item) for item in value]
        return value
