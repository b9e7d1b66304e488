"""Where the test servers are, and what to do when one is missing.

Tests reach PostgreSQL, RabbitMQ and Redis through environment URLs (defaulting to the local
servers). Under CI (`CI=true`) a missing server fails the test; on a developer's machine it skips.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get(
    "SMALLBATCH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
AMQP_URL = os.environ.get("SMALLBATCH_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("SMALLBATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

_DEFAULT_PORTS = {"postgresql": 5432, "amqp": 5672, "redis": 6379}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def server_reachable(url: str, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+")[0]
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def require_server(name: str, url: str) -> None:
    """Fail (in CI) or skip (elsewhere) the calling test when `url` does not answer."""
    if server_reachable(url):
        return
    message = f"{name} is not reachable at {url}"
    if in_ci():
        pytest.fail(f"{message}; CI needs every test server running", pytrace=False)
    pytest.skip(message)
