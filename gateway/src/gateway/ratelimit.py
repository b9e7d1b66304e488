"""Rate limits at the gateway: a per-minute budget by route class, and a daily quota per org.

Every request spends one unit of a per-minute budget of its route class (`classify`): per
client IP for the login and password-reset routes and for anonymous callers, per user or API
key otherwise, scaled by the organization's plan. An authenticated request also spends one
unit of its organization's daily quota. Counters live in Redis when `redis_url` is set, so
every gateway replica spends the same budgets; in process memory otherwise (embedded mode).

The minute budgets use `limits`' moving window: no burst of twice the limit across a window
edge, and in Redis one Lua script per hit. The daily quota is a fixed window per UTC day
instead, a plain counter (`INCR`) under a key that names the day:
- a moving window keeps one timestamp per request it allows — up to 10,000 list entries per
  pro organization, in Redis or in memory — where the counter is one integer;
- the count comes back from the increment itself, and the reset (next UTC midnight) is
  arithmetic, so the quota costs one round trip, where the moving window would need a
  second (`get_window_stats`) for `X-RateLimit-Remaining`;
- "10,000 requests a day" reads as a calendar day to a customer. The edge burst a fixed window
  allows (a quota's worth either side of midnight) is the minute budgets' business.

Cost per request (2-CPU machine, local Redis, redis-py's asyncio client; a bare PING is
~85 µs): the library's moving-window hit answers only yes or no, so remaining and reset take
a second script call (`get_window_stats`), ~180-240 µs p50 in all; with the daily quota,
whose increment runs beside that second call, ~280-360 µs. A single Lua script returning
the verdict and the window together would save one round trip (~90 µs), at the price of
owning a copy of the library's script; redis-py's pipelines save nothing here (they check
the scripts' presence first). In memory: ~8-11 µs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

import redis
import redis.asyncio
import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.principal import Plan, Principal
from gateway.settings import GatewaySettings
from servicekit.errors import RateLimitExceeded, error_body

logger = structlog.get_logger("gateway.ratelimit")

RouteClass = Literal[
    "auth", "password_reset", "batch_operations", "inventory_adjustments", "general"
]
Scope = Literal["ip", "user", "api_key", "organization"]

# Base (free plan) budgets, from seeds 000 and 003 and DESIGN.md.
CLASS_LIMITS: Final[Mapping[RouteClass, str]] = MappingProxyType({
    "auth": "5/minute",
    "password_reset": "3/minute",
    "batch_operations": "10/minute",
    "inventory_adjustments": "20/minute",
    "general": "100/minute",
})
PLAN_MULTIPLIERS: Final[Mapping[Plan, int]] = MappingProxyType({
    "free": 1, "pro": 5, "enterprise": 20,
})
# Guessing passwords or flooding reset mail must not get cheaper with a bigger plan, nor be
# spread over many accounts: these stay per IP and unscaled, signed in or not.
PER_IP_CLASSES: Final = frozenset({"auth", "password_reset"})
# Seed 001's table; its enterprise row says "Unlimited", hence no quota (and no round trip).
DAILY_QUOTAS: Final[Mapping[Plan, str | None]] = MappingProxyType({
    "free": "1000/day", "pro": "10000/day", "enterprise": None,
})
DAILY_QUOTA = "daily_quota"  # `Decision.refused_by` when the organization's quota refused

DEFAULT_KEY_PREFIX = "smallbatch:ratelimit"

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_AUTH_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"})
_INVENTORY_ADJUSTMENT_PATHS = frozenset({
    "/api/v1/inventory/adjustments", "/api/v1/inventory/lots/move",
})
_PASSWORD = "/api/v1/auth/password"
_COUNTS = "/api/v1/inventory/counts"
_BATCHES = "/api/v1/batches"


def classify(method: str, path: str) -> RouteClass:
    """The route class whose budget a request spends. `path` is the decoded ASGI path."""
    method = method.upper()
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")  # the same route to a framework that redirects the slash
    if method == "POST":
        if path in _AUTH_PATHS:
            return "auth"
        if _under(path, _PASSWORD):
            return "password_reset"
        if path in _INVENTORY_ADJUSTMENT_PATHS or _under(path, _COUNTS):
            return "inventory_adjustments"
    if method in _WRITE_METHODS and _under(path, _BATCHES):
        return "batch_operations"
    return "general"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or (path.startswith(prefix) and path[len(prefix)] == "/")


@dataclass(frozen=True, slots=True)
class Decision:
    """What the limiter decided, and the limit to report: the one that refused, or else the
    one with the least remaining. Fields other than `allowed` are None when unknown (the
    limiter is disabled or its storage is unreachable)."""

    allowed: bool
    limit: int | None = None
    remaining: int | None = None
    reset: int | None = None           # epoch seconds when a unit of this budget frees up
    retry_after: int | None = None     # seconds, >= 1, when refused
    refused_by: str | None = None      # the route class, or DAILY_QUOTA
    scope: Scope | None = None         # whose budget `limit` counts
    window: str | None = None          # "minute", "day", "2 seconds"

    def headers(self) -> dict[str, str]:
        if self.limit is None:
            return {}
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    def details(self) -> dict[str, Any]:
        return {"limit": self.limit, "window": self.window, "retry_after": self.retry_after,
                "scope": self.scope}

    def message(self) -> str:
        whose = _SCOPE_NAMES.get(self.scope or "", "caller")
        return (f"Rate limit exceeded: {self.limit} requests per {self.window} for this "
                f"{whose}. Retry after {self.retry_after} seconds.")

    def error(self) -> RateLimitExceeded:
        """The 429 as servicekit's domain error, for code that raises instead of responding."""
        return RateLimitExceeded(self.message(), details=self.details(), headers=self.headers())


_SCOPE_NAMES: Final[Mapping[str, str]] = MappingProxyType({
    "ip": "IP address", "user": "user", "api_key": "API key", "organization": "organization",
})
_UNLIMITED: Final = Decision(allowed=True)


def rate_limit_exceeded_body(decision: Decision, request_id: str | None = None
                             ) -> dict[str, Any]:
    """The 429's body in the fleet's error envelope (`RATE_LIMIT_EXCEEDED`)."""
    return error_body(RateLimitExceeded.code, decision.message(), decision.details(),
                      request_id)


class RateLimiter:
    """`await open()` in the lifespan, `await check(...)` per request, `await close()`.

    `class_limits`, `plan_multipliers` and `daily_quotas` replace entries of the default tables
    (strings in `limits`' notation: "5/minute", "3 per 2 seconds") — tests use short windows.
    Give every test run its own `key_prefix` on a shared Redis.
    """

    def __init__(self, settings: GatewaySettings, *,
                 class_limits: Mapping[RouteClass, str] | None = None,
                 plan_multipliers: Mapping[Plan, int] | None = None,
                 daily_quotas: Mapping[Plan, str | None] | None = None,
                 key_prefix: str = DEFAULT_KEY_PREFIX,
                 storage_timeout_seconds: float = 0.25,
                 outage_backoff_seconds: float = 5.0) -> None:
        self.enabled = settings.rate_limits_enabled
        self.redis_url = settings.redis_url
        self.key_prefix = key_prefix
        self.storage_timeout_seconds = storage_timeout_seconds
        self.outage_backoff_seconds = outage_backoff_seconds

        classes = {**CLASS_LIMITS, **(class_limits or {})}
        multipliers = {**PLAN_MULTIPLIERS, **(plan_multipliers or {})}
        quotas = {**DAILY_QUOTAS, **(daily_quotas or {})}
        unknown = (set(classes) - set(get_args(RouteClass))) | (
            (set(multipliers) | set(quotas)) - set(get_args(Plan)))
        if unknown:
            raise ValueError(f"unknown route classes or plans: {sorted(unknown)}")
        # Parsed once: the hot path only looks items up. `rate_limit_scale` multiplies every
        # limit and quota (load tests raise it: each request still pays for its counters).
        scale = settings.rate_limit_scale
        self._minute: dict[tuple[RouteClass, Plan], RateLimitItem] = {}
        for route_class, spec in classes.items():
            base = parse(spec)
            for plan, factor in multipliers.items():
                plan_factor = 1 if route_class in PER_IP_CLASSES else factor
                self._minute[route_class, plan] = _scaled(base, plan_factor * scale)
        self._quota: dict[Plan, RateLimitItem | None] = {
            plan: _scaled(parse(spec), scale) if spec else None for plan, spec in quotas.items()
        }

        self._pool: redis.asyncio.ConnectionPool | None = None
        self._storage: Storage | None = None
        self._window: MovingWindowRateLimiter | None = None
        self._storage_errors: tuple[type[BaseException], ...] = (StorageError,)
        self._outage_until = 0.0  # time.monotonic() before which the storage is not tried

    def limit_for(self, route_class: RouteClass, plan: Plan) -> RateLimitItem:
        return self._minute[route_class, plan]

    def quota_for(self, plan: Plan) -> RateLimitItem | None:
        return self._quota[plan]

    async def open(self) -> None:
        if not self.enabled:
            return
        if self.redis_url:
            plain_url, storage_uri = _redis_urls(self.redis_url)
            # Our own pool, so that timeouts and retries are ours (redis-py's client default
            # retries three times with backoff of seconds) and close() can release it.
            self._pool = redis.asyncio.ConnectionPool.from_url(
                plain_url,
                socket_timeout=self.storage_timeout_seconds,
                socket_connect_timeout=self.storage_timeout_seconds,
                retry=Retry(NoBackoff(), 1),  # one immediate retry, for a stale connection
            )
            storage: Storage = RedisStorage(
                storage_uri, implementation="redispy", key_prefix=self.key_prefix,
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
            self._storage_errors = (StorageError, redis.RedisError, OSError, TimeoutError)
            if not await storage.check():
                logger.warning("rate_limit_storage_unreachable", url=_redacted(plain_url),
                               action="requests pass unlimited until it answers")
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._window = MovingWindowRateLimiter(storage)

    async def close(self) -> None:
        self._window = self._storage = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()

    async def check(self, method: str, path: str, *, principal: Principal | None,
                    client_ip: str) -> Decision:
        """Spend one unit of each budget the request falls under and say whether it may pass.

        A request the minute budget refuses does not reach the daily quota. One the quota
        refuses has spent a minute unit: asking the quota first would cost a round trip on
        every request, and an organization without quota is refused until midnight anyway.
        """
        if not self.enabled:
            return _UNLIMITED
        if self._window is None:
            raise RuntimeError("RateLimiter.check() before open()")
        route_class = classify(method, path)
        scope: Scope
        if principal is None or route_class in PER_IP_CLASSES:
            scope, subject, plan = "ip", f"ip:{client_ip}", "free"
        else:
            scope, subject, plan = principal.kind, principal.rate_limit_key, principal.plan
        item = self._minute[route_class, plan]
        quota = self._quota[principal.plan] if principal is not None else None

        # Fail open: a limiter outage must not take the API down, so while the storage does
        # not answer every request passes (without headers), and after a failure the storage
        # is left alone for `outage_backoff_seconds` rather than costing each request a timeout.
        if self._outage_until and time.monotonic() < self._outage_until:
            return _UNLIMITED
        try:
            decision = await self._spend(route_class, subject, scope, item, principal, quota)
        except self._storage_errors as exc:
            if not self._outage_until or time.monotonic() >= self._outage_until:
                logger.warning("rate_limit_storage_failed", error=repr(exc),
                               action="requests pass unlimited",
                               retry_in_seconds=self.outage_backoff_seconds)
            self._outage_until = time.monotonic() + self.outage_backoff_seconds
            return _UNLIMITED
        if self._outage_until:
            self._outage_until = 0.0
            logger.info("rate_limit_storage_recovered")
        return decision

    async def _spend(self, route_class: RouteClass, subject: str, scope: Scope,
                     item: RateLimitItem, principal: Principal | None,
                     quota: RateLimitItem | None) -> Decision:
        window = self._window
        assert window is not None and self._storage is not None
        # The library's hit answers only yes or no; the window's count and oldest entry
        # (remaining, reset) take a second script call.
        if not await window.hit(item, route_class, subject):
            stats = await window.get_window_stats(item, route_class, subject)
            return _refused(route_class, scope, item, stats.reset_time)
        if quota is None or principal is None:
            stats = await window.get_window_stats(item, route_class, subject)
            return _allowed(scope, item, stats.remaining, stats.reset_time)

        period = quota.get_expiry()
        bucket = int(time.time() // period)  # UTC days since the epoch for a daily quota
        quota_key = f"quota/{principal.org_id}/{period}/{bucket}"
        stats_call = window.get_window_stats(item, route_class, subject)
        if self._pool is not None:  # two round trips at once
            stats, used = await asyncio.gather(stats_call,
                                               self._storage.incr(quota_key, period))
        else:  # in memory nothing waits, and tasks would cost more than the calls
            stats = await stats_call
            used = await self._storage.incr(quota_key, period)
        quota_reset = float((bucket + 1) * period)
        if used > quota.amount:
            return _refused(DAILY_QUOTA, "organization", quota, quota_reset)
        quota_remaining = quota.amount - used
        if quota_remaining < stats.remaining:
            return _allowed("organization", quota, quota_remaining, quota_reset)
        return _allowed(scope, item, stats.remaining, stats.reset_time)


def _allowed(scope: Scope, item: RateLimitItem, remaining: int,
             reset_time: float) -> Decision:
    return Decision(allowed=True, limit=item.amount, remaining=max(0, remaining),
                    reset=math.ceil(reset_time), scope=scope, window=_window_name(item))


def _refused(name: str, scope: Scope, item: RateLimitItem, reset_time: float) -> Decision:
    return Decision(
        allowed=False, limit=item.amount, remaining=0, reset=math.ceil(reset_time),
        retry_after=max(1, math.ceil(reset_time - time.time())), refused_by=name,
        scope=scope, window=_window_name(item),
    )


def _scaled(item: RateLimitItem, factor: float) -> RateLimitItem:
    if factor == 1:
        return item
    amount = max(1, round(item.amount * factor))
    return type(item)(amount, item.multiples, namespace=item.namespace)


def _window_name(item: RateLimitItem) -> str:
    name = item.GRANULARITY.name
    return name if item.multiples == 1 else f"{item.multiples} {name}s"


def _redis_urls(url: str) -> tuple[str, str]:
    """(the URL for redis-py, the URI that picks `limits`' async Redis storage) for
    `redis://`, `rediss://` or `unix://` URLs, with or without `async+`."""
    plain = url.removeprefix("async+")
    if plain.startswith("redis+unix://"):
        plain = "unix://" + plain.removeprefix("redis+unix://")
    if plain.startswith("unix://"):
        return plain, "async+redis+unix://" + plain.removeprefix("unix://")
    return plain, f"async+{plain}"


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}"
