"""Keep secrets out of the server's log: values of secret environment variables are masked.

An unhandled error's traceback may quote anything it touched (a provider key, a database URL);
``SecretFilter`` rewrites each record's message and exception text before a handler sees it.
"""

from __future__ import annotations

import logging
import os
import re

SECRET_NAME = re.compile(r"(API_KEY|_KEY|TOKEN|SECRET|PASSWORD|PASSWD)$", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^/@:\s]*:([^@/\s]+)@")
MIN_SECRET_LEN = 6
MASK = "***"
LOGGERS = ("openbuilder", "openbuilder.server", "uvicorn.error")


def env_secrets() -> list[str]:
    """Values of ``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD`` variables, and passwords
    inside URLs held by any variable; longest first so that no part of one is left."""
    found: set[str] = set()
    for name, value in os.environ.items():
        if SECRET_NAME.search(name):
            found.add(value)
        found.update(URL_PASSWORD.findall(value))
    return sorted((s for s in found if len(s) >= MIN_SECRET_LEN), key=len, reverse=True)


def scrub(text: str, secrets: list[str] | None = None) -> str:
    for secret in env_secrets() if secrets is None else secrets:
        text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    """Mask secret values in a record's message, exception and stack text (never drops it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = env_secrets()
        if not secrets:
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = scrub(record.getMessage(), secrets), ()
        record.exc_info = None  # its text, masked, is kept in exc_text
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, secrets)
        return True


def install_secret_filter() -> None:
    """Put one ``SecretFilter`` on the server's loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretFilter) for f in logger.filters):
            logger.addFilter(SecretFilter())
