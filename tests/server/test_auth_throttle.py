"""Issue 9, failure 12 (second half): failed authentication is throttled per client address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from framework.server.throttle import AuthThrottle
from tests.server.conftest import create_key, make_apps, start_server, stop

pytestmark = pytest.mark.integration


@pytest.fixture
def throttled(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    home = tmp_path / "home"
    url, proc = start_server(home, make_apps(tmp_path / "apps"),
                             env={"OPENBUILDER_AUTH_FAILURES": "5",
                                  "OPENBUILDER_AUTH_WINDOW": "120",
                                  "OPENBUILDER_RATE_LIMIT": "100000"})
    try:
        yield url, home
    finally:
        stop(proc)


def test_failure12_repeated_bad_keys_get_429(throttled: tuple[str, Path]) -> None:
    url, home = throttled
    good = {"Authorization": f"Bearer {create_key(home, 'alpha')}"}
    for _ in range(30):  # good keys are never counted
        assert httpx.get(f"{url}/v1/models", headers=good).status_code == 200
    codes = [httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer obk_{i:08x}_x"}
                       ).status_code for i in range(8)]
    assert codes == [401] * 5 + [429] * 3
    blocked = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {'x' * 20}"})
    assert blocked.status_code == 429 and blocked.json()["error"]["type"] == "rate_limited"
    assert 1 <= int(blocked.headers["retry-after"]) <= 120
    assert httpx.get(f"{url}/v1/models", headers=good).status_code == 200  # not locked out
    fresh = {"Authorization": f"Bearer {create_key(home, 'alpha')}"}
    assert httpx.get(f"{url}/v1/models", headers=fresh).status_code == 429  # not even checked
    assert httpx.get(f"{url}/health").status_code == 200


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_is_per_address_and_ends_with_the_window() -> None:
    clock = Clock()
    throttle = AuthThrottle(limit=3, window_s=60, clock=clock)
    throttle.succeeded("10.0.0.1", "goodid")
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1", "guess") is None
        throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1", "guess") == 60
    assert throttle.retry_after("10.0.0.1", None) == 60
    assert throttle.retry_after("10.0.0.1", "goodid") is None  # seen good from this address
    assert throttle.retry_after("10.0.0.2", "guess") is None  # other addresses are not blocked
    clock.now += 45
    assert throttle.retry_after("10.0.0.1", "guess") == 15
    clock.now += 15
    assert throttle.retry_after("10.0.0.1", "guess") is None
    throttle.failed("10.0.0.1")  # a new window: counting starts again
    assert throttle.retry_after("10.0.0.1", "guess") is None


def test_throttle_off_and_bounded() -> None:
    off = AuthThrottle(limit=0, window_s=60)
    for _ in range(100):
        off.failed("10.0.0.1")
    assert off.retry_after("10.0.0.1", None) is None
    many = AuthThrottle(limit=1, window_s=60)
    for i in range(20_000):
        many.failed(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
    assert len(many._failures) <= 10_000
