"""Issue 9, failures 4 and 9: PostgreSQL checkpoint URLs never hang a build, never leak a secret."""

from __future__ import annotations

import io
import logging
import socket
import threading

import pytest

from framework.app import checkpoints
from framework.app.checkpoints import (
    connect_timeout,
    postgres_checkpointer,
    redact_dsn,
    scrub_dsn,
)
from framework.errors import ConfigError, MissingSecretError
from framework.server.logs import SecretFilter
from tests.hanging_tcp import hanging_server

pytest.importorskip("psycopg")
SECRET = "hunter2-Secret-Pw"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_error(url: str) -> str:
    with pytest.raises(ConfigError) as info:
        postgres_checkpointer(url, "app")
    return str(info.value)


@pytest.mark.parametrize("dsn", [
    f"host=127.0.0.1 port={{port}} user=bob password={SECRET} dbname=x",
    f"host=127.0.0.1 port={{port}} user=bob password='{SECRET}' dbname=x sslmode=disable",
    f"postgresql://bob:{SECRET}@127.0.0.1:{{port}}/x",
])
def test_9_dsn_password_is_not_in_the_connect_error(dsn: str) -> None:
    message = config_error(dsn.format(port=closed_port()))
    assert SECRET not in message and "bob" not in message
    assert "127.0.0.1" in message and "/x" in message


def test_9_unparseable_dsn_is_a_config_error_that_quotes_nothing() -> None:
    message = config_error(f"host=127.0.0.1 password={SECRET} garbage-token")
    assert SECRET not in message and "garbage" not in message
    assert "checkpoints.url" in message and "postgresql://" in message


def test_9_env_reference_to_a_non_url_names_the_variable_not_its_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-" + SECRET)
    message = config_error("env:OPENAI_API_KEY")
    assert SECRET not in message
    assert "OPENAI_API_KEY" in message and "checkpoints.url" in message


def test_9_env_reference_to_an_unset_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OB_TEST_UNSET_PG", raising=False)
    with pytest.raises(MissingSecretError, match="OB_TEST_UNSET_PG"):
        postgres_checkpointer("env:OB_TEST_UNSET_PG")


def test_9_redact_keeps_host_port_and_database_only() -> None:
    assert redact_dsn(f"host=db.example.com port=5433 user=bob password={SECRET} dbname=app "
                      "sslkey=/k") == "db.example.com:5433/app"
    assert redact_dsn(f"postgresql://bob:{SECRET}@db.example.com:5433/app?sslpassword=z"
                      ) == "db.example.com:5433/app"
    assert redact_dsn(f"postgres://bob:{SECRET}@db.example.com:bad/app") == \
        "(connection string not shown)"
    assert redact_dsn(SECRET) == "(connection string not shown)"


def test_9_scrub_removes_every_value_but_host_port_and_database() -> None:
    dsn = f"host=db port=5433 user=bob password='{SECRET}' dbname=app"
    text = scrub_dsn(f'connection to "db" port 5433 failed for user "bob" ({SECRET}); {dsn}', dsn)
    assert SECRET not in text and "bob" not in text and "db" in text


def test_4_connect_timeout_is_always_applied_and_capped() -> None:
    assert connect_timeout("postgresql://h/x") == checkpoints.CONNECT_TIMEOUT_S
    assert connect_timeout("host=h connect_timeout=0") == checkpoints.CONNECT_TIMEOUT_S
    assert connect_timeout("postgresql://h/x?connect_timeout=3") == 3
    assert connect_timeout("host=h connect_timeout=100000") == checkpoints.MAX_CONNECT_TIMEOUT_S


def test_4_a_server_that_never_answers_gives_a_config_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoints, "CONNECT_TIMEOUT_S", 2, raising=False)
    outcome: list[BaseException] = []
    with hanging_server() as hung:
        def connect() -> None:
            try:
                postgres_checkpointer(hung.url, "app")
            except BaseException as exc:  # noqa: BLE001 - the outcome is checked below
                outcome.append(exc)

        worker = threading.Thread(target=connect, daemon=True)
        worker.start()
        worker.join(60)  # a guard against a hang (without a timeout psycopg waits 130 s)
        assert not worker.is_alive(), "connecting to a server that never answers hung"
    assert len(outcome) == 1 and isinstance(outcome[0], ConfigError)
    assert "timeout" in str(outcome[0]) and f"127.0.0.1:{hung.port}/x" in str(outcome[0])


def test_4_more_than_three_hosts_are_refused() -> None:
    message = config_error("host=a,b,c,d dbname=x")
    assert "hosts" in message


def test_9_secret_filter_masks_secret_env_values_in_logged_tracebacks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-" + SECRET)
    monkeypatch.setenv("OB_TEST_DB_URL", f"postgresql://bob:{SECRET}x@h/db")
    stream = io.StringIO()
    logger = logging.getLogger("openbuilder.test_secret_filter")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.addFilter(SecretFilter())
    try:
        try:
            raise RuntimeError(f"bad value {'sk-' + SECRET} and {SECRET}x")
        except RuntimeError:
            logger.exception("failed with %s", "sk-" + SECRET)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert SECRET not in text and "RuntimeError: bad value ***" in text
    assert "failed with ***" in text
