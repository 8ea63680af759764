"""One redactor for everything that leaves the process: API keys, bearer tokens and
``Authorization`` values, the values of secret references (``env:NAME``) and secret-looking
environment variables, e-mail addresses and phone numbers.

Spans pass through :meth:`Redactor.redact` before the OTLP exporter sees them; the local store
keeps content but masks secrets (:meth:`Redactor.secrets_only`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

MASK = "***"
MIN_SECRET_LEN = 6
SECRET_NAME = re.compile(r"(API_KEY|_KEY|TOKEN|SECRET|PASSWORD|PASSWD)$", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^/@:\s]*:([^@/\s]+)@")

_KEYS = re.compile("|".join([
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}",          # OpenAI/Anthropic-style keys
    r"\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{16,}",  # GitHub tokens
    r"\bAKIA[0-9A-Z]{16}\b",                        # AWS access key ids
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",             # Slack tokens
    r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWTs
]))
_AUTH = re.compile(r"(?i)\b(authorization|proxy-authorization|x-api-key|api[_-]?key)"
                   r"(\"?\s*[:=]\s*\"?)([^\s\",}]+(?:\s+[^\s\",}]+)?)")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{8,}")
# Substrings (lower case) without which a pattern cannot match: most text skips the regex.
_AUTH_HINTS = ("authorization", "api-key", "api_key", "apikey")
_BEARER_HINTS = ("bearer", "basic", "token")
_KEY_HINTS = ("sk-", "pk-", "rk-", "gh", "akia", "xox", "eyj")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ().\-]{6,}\d(?![\w.])")
_PHONE_DIGITS = (7, 15)


def env_secret_values(references: Iterable[str] = ()) -> list[str]:
    """The values behind ``env:NAME`` references, plus those of ``*_API_KEY``/``*_TOKEN``/
    ``*_SECRET``/``*PASSWORD`` variables and passwords inside URLs; longest first."""
    found: set[str] = set()
    for ref in references:
        if isinstance(ref, str) and ref.startswith("env:"):
            found.add(os.environ.get(ref[4:], ""))
    for name, value in os.environ.items():
        if SECRET_NAME.search(name):
            found.add(value)
        found.update(URL_PASSWORD.findall(value))
    return sorted((s for s in found if len(s) >= MIN_SECRET_LEN), key=len, reverse=True)


def references_in(value: Any) -> list[str]:
    """Every ``env:NAME`` string inside a nested structure (a spec's ``model_dump()``)."""
    if isinstance(value, str):
        return [value] if value.startswith("env:") and len(value) > 4 else []
    if isinstance(value, dict):
        return [r for v in value.values() for r in references_in(v)]
    if isinstance(value, list | tuple):
        return [r for v in value for r in references_in(v)]
    return []


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return MASK if _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1] else match.group(0)


class Redactor:
    """Masks secrets (always) and personal data (``pii=True``) in strings and nested values."""

    def __init__(self, secrets: Iterable[str] = (), *, pii: bool = True) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len,
                              reverse=True)
        self.pii = pii

    @classmethod
    def for_references(cls, references: Iterable[str] = (), *, pii: bool = True) -> Redactor:
        """Masks the values of these ``env:`` references and of secret-looking variables (cached
        while the environment stays the same)."""
        return _cached(tuple(references), pii, tuple(os.environ.items()))

    def secrets_only(self) -> Redactor:
        return Redactor(self.secrets, pii=False)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        low = text.lower()
        if any(h in low for h in _AUTH_HINTS):
            text = _AUTH.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        if any(h in low for h in _BEARER_HINTS):
            text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
        if any(h in low for h in _KEY_HINTS):
            text = _KEYS.sub(MASK, text)
        if self.pii:
            if "@" in text:
                text = _EMAIL.sub(MASK, text)
            text = _PHONE.sub(_phone, text)
        return text

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


@lru_cache(maxsize=64)
def _cached(references: tuple[str, ...], pii: bool, env: tuple[tuple[str, str], ...]) -> Redactor:
    return Redactor(env_secret_values(references), pii=pii)
