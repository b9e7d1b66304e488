"""The rate limiter spending real budgets: in memory, and in the real Redis that replicas share.

Each test's limiters write under their own key prefix, removed afterwards, so runs never meet.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
import redis.asyncio

from gateway.principal import Plan, Principal
from gateway.ratelimit import DAILY_QUOTA, RateLimiter
from gateway.settings import GatewaySettings
from servicekit.testing.servers import REDIS_URL, require_server, server_reachable

LOGIN = ("POST", "/api/v1/auth/login")
ITEMS = ("GET", "/api/v1/inventory/items")
DAY = 86_400

LimiterFactory = Callable[..., AbstractAsyncContextManager[RateLimiter]]


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        require_server("Redis", REDIS_URL)
    return str(request.param)


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-ratelimit-{uuid.uuid4().hex}"
    yield prefix
    if not server_reachable(REDIS_URL):
        return
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def limiter(storage: str, redis_prefix: str) -> LimiterFactory:
    """limiter(**overrides) -> an opened RateLimiter on this test's storage."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[RateLimiter]:
        settings = GatewaySettings(redis_url=REDIS_URL if storage == "redis" else None)
        rate_limiter = RateLimiter(settings, key_prefix=redis_prefix, **overrides)
        await rate_limiter.open()
        try:
            yield rate_limiter
        finally:
            await rate_limiter.close()

    return start


def principal(*, kind: str = "user", plan: Plan = "free",
              org_id: uuid.UUID | None = None) -> Principal:
    return Principal(kind=kind, subject_id=uuid.uuid4(),  # type: ignore[arg-type]
                     org_id=org_id or uuid.uuid4(), role="owner", plan=plan)


async def test_the_sixth_login_in_a_minute_from_one_ip_is_refused(
        limiter: LimiterFactory) -> None:
    async with limiter() as rate_limiter:
        allowed = [await rate_limiter.check(*LOGIN, principal=None, client_ip="198.51.100.7")
                   for _ in range(5)]
        sixth = await rate_limiter.check(*LOGIN, principal=None, client_ip="198.51.100.7")
        other_ip = await rate_limiter.check(*LOGIN, principal=None, client_ip="198.51.100.8")

    assert [d.allowed for d in allowed] == [True] * 5
    assert [d.remaining for d in allowed] == [4, 3, 2, 1, 0]
    assert not sixth.allowed
    assert (sixth.refused_by, sixth.scope, sixth.limit, sixth.window) == (
        "auth", "ip", 5, "minute")
    assert sixth.retry_after is not None and 1 <= sixth.retry_after <= 60
    assert sixth.headers()["Retry-After"] == str(sixth.retry_after)
    assert other_ip.allowed


async def test_login_stays_per_ip_and_unscaled_for_a_signed_in_enterprise_caller(
        limiter: LimiterFactory) -> None:
    async with limiter() as rate_limiter:
        decisions = [await rate_limiter.check("POST", "/api/v1/auth/refresh",
                                              principal=principal(plan="enterprise"),
                                              client_ip="198.51.100.9")
                     for _ in range(6)]

    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert decisions[-1].scope == "ip"


async def test_the_general_limit_is_per_user_and_scaled_by_plan(
        limiter: LimiterFactory) -> None:
    org = uuid.uuid4()
    free_user, other_free_user = principal(org_id=org), principal(org_id=org)
    pro_key = principal(kind="api_key", plan="pro")

    async with limiter(class_limits={"general": "2/minute"}) as rate_limiter:
        async def spend(caller: Principal, times: int) -> list[bool]:
            return [(await rate_limiter.check(*ITEMS, principal=caller,
                                              client_ip="203.0.113.1")).allowed
                    for _ in range(times)]

        free = await spend(free_user, 3)
        other_free = await spend(other_free_user, 2)
        pro = await spend(pro_key, 11)
        refused = await rate_limiter.check(*ITEMS, principal=pro_key, client_ip="203.0.113.1")

    assert free == [True, True, False]
    assert other_free == [True, True]
    assert pro == [True] * 10 + [False]
    assert (refused.refused_by, refused.scope, refused.limit) == ("general", "api_key", 10)


async def test_route_classes_spend_separate_budgets(limiter: LimiterFactory) -> None:
    caller = principal()
    async with limiter(class_limits={"batch_operations": "1/minute"}) as rate_limiter:
        first = await rate_limiter.check("POST", "/api/v1/batches/start", principal=caller,
                                         client_ip="203.0.113.2")
        second = await rate_limiter.check("POST", "/api/v1/batches/start", principal=caller,
                                          client_ip="203.0.113.2")
        read = await rate_limiter.check("GET", "/api/v1/batches", principal=caller,
                                        client_ip="203.0.113.2")

    assert (first.allowed, second.allowed, read.allowed) == (True, False, True)
    assert second.refused_by == "batch_operations"


async def test_the_daily_quota_is_shared_by_the_users_of_an_organization(
        limiter: LimiterFactory) -> None:
    org = uuid.uuid4()
    alice, bob = principal(org_id=org), principal(org_id=org)

    async with limiter(daily_quotas={"free": "3/day"}) as rate_limiter:
        async def call(caller: Principal) -> Any:
            return await rate_limiter.check(*ITEMS, principal=caller, client_ip="203.0.113.3")

        spent = [await call(alice), await call(alice), await call(bob)]
        refused = await call(bob)
        stranger = await call(principal())

    next_midnight = (int(time.time()) // DAY + 1) * DAY
    assert [d.allowed for d in spent] == [True, True, True]
    # The quota is the tightest limit once it has less left than the minute budget.
    assert [(d.scope, d.remaining) for d in spent] == [
        ("organization", 2), ("organization", 1), ("organization", 0)]
    assert spent[-1].reset == next_midnight
    assert not refused.allowed
    assert (refused.refused_by, refused.scope, refused.limit, refused.window) == (
        DAILY_QUOTA, "organization", 3, "day")
    assert refused.reset == next_midnight
    assert refused.retry_after is not None
    assert abs(refused.retry_after - (next_midnight - time.time())) <= 2
    assert stranger.allowed


async def test_a_request_the_minute_limit_refuses_does_not_spend_the_daily_quota(
        limiter: LimiterFactory) -> None:
    org = uuid.uuid4()
    alice, bob, carol = principal(org_id=org), principal(org_id=org), principal(org_id=org)

    async with limiter(class_limits={"general": "2/minute"},
                       daily_quotas={"free": "4/day"}) as rate_limiter:
        async def call(caller: Principal) -> Any:
            return await rate_limiter.check(*ITEMS, principal=caller, client_ip="203.0.113.4")

        alice_calls = [await call(alice) for _ in range(5)]  # 2 pass, 3 refused by the minute
        bob_calls = [await call(bob) for _ in range(2)]      # the quota's 3rd and 4th
        carol_call = await call(carol)                       # over the quota

    assert [d.allowed for d in alice_calls] == [True, True, False, False, False]
    assert {d.refused_by for d in alice_calls[2:]} == {"general"}
    assert [d.allowed for d in bob_calls] == [True, True]
    assert (carol_call.allowed, carol_call.refused_by) == (False, DAILY_QUOTA)


async def test_enterprise_organizations_have_no_daily_quota(limiter: LimiterFactory) -> None:
    caller = principal(plan="enterprise")
    async with limiter(daily_quotas={"free": "1/day", "pro": "1/day"}) as rate_limiter:
        decisions = [await rate_limiter.check(*ITEMS, principal=caller,
                                              client_ip="203.0.113.5") for _ in range(3)]

    assert [d.allowed for d in decisions] == [True] * 3
    assert {d.scope for d in decisions} == {"user"}
    assert [d.remaining for d in decisions] == [1999, 1998, 1997]


async def test_headers_report_a_consistent_countdown_and_reset(
        limiter: LimiterFactory) -> None:
    async with limiter(class_limits={"general": "3/minute"}) as rate_limiter:
        started = time.time()
        decisions = [await rate_limiter.check(*ITEMS, principal=None, client_ip="192.0.2.10")
                     for _ in range(4)]

    headers = [d.headers() for d in decisions]
    assert [h["X-RateLimit-Limit"] for h in headers] == ["3"] * 4
    assert [h["X-RateLimit-Remaining"] for h in headers] == ["2", "1", "0", "0"]
    # The moving window frees its first unit a minute after the first request.
    resets = {int(h["X-RateLimit-Reset"]) for h in headers}
    assert len(resets) == 1
    (reset,) = resets
    assert started + 60 <= reset <= started + 62
    assert "Retry-After" not in headers[2]
    assert 58 <= int(headers[3]["Retry-After"]) <= 60
    assert abs(reset - time.time() - int(headers[3]["Retry-After"])) <= 1.5


async def test_a_budget_frees_up_when_its_window_has_passed(limiter: LimiterFactory) -> None:
    async with limiter(class_limits={"general": "2 per 1 second"}) as rate_limiter:
        async def call() -> Any:
            return await rate_limiter.check(*ITEMS, principal=None, client_ip="192.0.2.11")

        first = [(await call()).allowed for _ in range(3)]
        refused = await call()
        await asyncio.sleep(1.1)
        later = await call()

    assert first == [True, True, False]
    assert (refused.retry_after, refused.window) == (1, "second")
    assert later.allowed


async def test_two_gateway_replicas_on_one_redis_spend_one_budget(redis_prefix: str) -> None:
    require_server("Redis", REDIS_URL)
    settings = GatewaySettings(redis_url=REDIS_URL)
    org = uuid.uuid4()
    replicas = [RateLimiter(settings, key_prefix=redis_prefix,
                            daily_quotas={"free": "4/day"}) for _ in range(2)]
    for replica in replicas:
        await replica.open()
    try:
        logins = [await replicas[i % 2].check(*LOGIN, principal=None, client_ip="192.0.2.20")
                  for i in range(6)]
        calls = [await replicas[i % 2].check(*ITEMS, principal=principal(org_id=org),
                                             client_ip="192.0.2.21") for i in range(5)]
    finally:
        for replica in replicas:
            await replica.close()

    assert [d.allowed for d in logins] == [True] * 5 + [False]
    assert [d.remaining for d in logins[:5]] == [4, 3, 2, 1, 0]
    assert [d.allowed for d in calls] == [True] * 4 + [False]
    assert calls[-1].refused_by == DAILY_QUOTA


async def test_in_memory_each_limiter_counts_alone_without_redis() -> None:
    settings = GatewaySettings(redis_url=None)
    one, two = RateLimiter(settings), RateLimiter(settings)
    await one.open()
    await two.open()
    try:
        first = [await one.check(*LOGIN, principal=None, client_ip="192.0.2.30")
                 for _ in range(6)]
        other = await two.check(*LOGIN, principal=None, client_ip="192.0.2.30")
    finally:
        await one.close()
        await two.close()

    assert [d.allowed for d in first] == [True] * 5 + [False]
    assert other.allowed and other.remaining == 4


async def test_an_unreachable_redis_lets_every_request_through_without_headers() -> None:
    settings = GatewaySettings(redis_url=f"redis://127.0.0.1:{_unused_port()}/0")
    rate_limiter = RateLimiter(settings)
    await rate_limiter.open()
    try:
        started = time.perf_counter()
        decisions = [await rate_limiter.check(*LOGIN, principal=None, client_ip="192.0.2.40")
                     for _ in range(20)]
        elapsed = time.perf_counter() - started
    finally:
        await rate_limiter.close()

    assert all(d.allowed for d in decisions)
    assert all(d.headers() == {} for d in decisions)
    assert elapsed < 1.0


async def test_a_redis_that_never_answers_costs_a_request_at_most_its_timeout() -> None:
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the connection, answers nothing
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rate_limiter = RateLimiter(GatewaySettings(redis_url=f"redis://127.0.0.1:{port}/0"),
                               storage_timeout_seconds=0.1)
    try:
        await rate_limiter.open()
        started = time.perf_counter()
        first = await rate_limiter.check(*ITEMS, principal=principal(), client_ip="192.0.2.41")
        first_elapsed = time.perf_counter() - started
        started = time.perf_counter()
        during_outage = await rate_limiter.check(*ITEMS, principal=None,
                                                 client_ip="192.0.2.41")
        outage_elapsed = time.perf_counter() - started
    finally:
        await rate_limiter.close()
        server.close()
        await server.wait_closed()

    assert first.allowed and first.headers() == {}
    assert first_elapsed < 0.5  # one timeout and one immediate retry
    assert during_outage.allowed and outage_elapsed < 0.01  # not tried again yet


async def test_a_disabled_limiter_allows_everything_without_headers() -> None:
    rate_limiter = RateLimiter(GatewaySettings(rate_limits_enabled=False))
    await rate_limiter.open()
    decisions = [await rate_limiter.check(*LOGIN, principal=None, client_ip="192.0.2.50")
                 for _ in range(10)]
    await rate_limiter.close()

    assert all(d.allowed and d.headers() == {} for d in decisions)


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

