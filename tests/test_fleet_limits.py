"""Rate limits across gateway replicas: counters in Redis, one budget however many gateways."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.fleet


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_gateways(fleet) -> Iterator[list[str]]:
    """Two more gateway processes of the fleet, with the real limits and fresh counters."""
    env = {**fleet.gateway_env(), "GATEWAY_RATE_LIMIT_KEY_PREFIX": f"limits:{uuid.uuid4().hex}",
           "GATEWAY_LOG_LEVEL": "WARNING"}
    ports = [_free_port(), _free_port()]
    processes = [subprocess.Popen([sys.executable, "-m", "gateway"],
                                  env={**env, "GATEWAY_PORT": str(port)})
                 for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "a gateway did not start"
                time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def test_the_sixth_login_in_a_minute_from_one_address_is_refused_across_two_gateways(
    two_gateways: list[str],
) -> None:
    attempt = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "wrong-wrong"}
    answers = [httpx.post(f"{two_gateways[n % 2]}/api/v1/auth/login", json=attempt, timeout=5)
               for n in range(6)]

    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    refused = answers[5]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-limit"] == "5"
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
