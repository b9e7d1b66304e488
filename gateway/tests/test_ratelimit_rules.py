"""The rate limiter's rules without storage: route classes, plan tiers, headers, the 429 body."""

from __future__ import annotations

import pytest

from gateway.ratelimit import Decision, RateLimiter, classify, rate_limit_exceeded_body
from gateway.settings import GatewaySettings


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("POST", "/api/v1/auth/login", "auth"),
    ("POST", "/api/v1/auth/register", "auth"),
    ("POST", "/api/v1/auth/refresh", "auth"),
    ("post", "/api/v1/auth/login/", "auth"),
    ("POST", "/api/v1/auth/logout", "general"),
    ("GET", "/api/v1/auth/login", "general"),
    ("POST", "/api/v1/auth/password/forgot", "password_reset"),
    ("POST", "/api/v1/auth/password/reset", "password_reset"),
    ("POST", "/api/v1/auth/passwordless", "general"),
    ("POST", "/api/v1/batches/start", "batch_operations"),
    ("POST", "/api/v1/batches", "batch_operations"),
    ("PUT", "/api/v1/batches/7", "batch_operations"),
    ("PATCH", "/api/v1/batches/7", "batch_operations"),
    ("DELETE", "/api/v1/batches/7/containers/3", "batch_operations"),
    ("POST", "/api/v1/batches/7/finish", "batch_operations"),
    ("GET", "/api/v1/batches", "general"),
    ("GET", "/api/v1/batches/7", "general"),
    ("HEAD", "/api/v1/batches/7", "general"),
    ("POST", "/api/v1/batchesx", "general"),
    ("POST", "/api/v1/inventory/adjustments", "inventory_adjustments"),
    ("POST", "/api/v1/inventory/lots/move", "inventory_adjustments"),
    ("POST", "/api/v1/inventory/counts", "inventory_adjustments"),
    ("POST", "/api/v1/inventory/counts/5/apply", "inventory_adjustments"),
    ("GET", "/api/v1/inventory/counts/5", "general"),
    ("GET", "/api/v1/inventory/adjustments", "general"),
    ("POST", "/api/v1/inventory/items", "general"),
    ("GET", "/api/v1/inventory/items", "general"),
    ("POST", "/api/v1/recipes", "general"),
    ("GET", "/", "general"),
])
def test_classify_names_the_route_class_of_a_request(method: str, path: str,
                                                     expected: str) -> None:
    assert classify(method, path) == expected


def test_plans_scale_the_minute_limits_except_login_and_password_reset() -> None:
    limiter = RateLimiter(GatewaySettings())

    amounts = {(route_class, plan): limiter.limit_for(route_class, plan).amount
               for route_class in ("auth", "password_reset", "batch_operations",
                                   "inventory_adjustments", "general")
               for plan in ("free", "pro", "enterprise")}

    assert amounts == {
        ("auth", "free"): 5, ("auth", "pro"): 5, ("auth", "enterprise"): 5,
        ("password_reset", "free"): 3, ("password_reset", "pro"): 3,
        ("password_reset", "enterprise"): 3,
        ("batch_operations", "free"): 10, ("batch_operations", "pro"): 50,
        ("batch_operations", "enterprise"): 200,
        ("inventory_adjustments", "free"): 20, ("inventory_adjustments", "pro"): 100,
        ("inventory_adjustments", "enterprise"): 400,
        ("general", "free"): 100, ("general", "pro"): 500, ("general", "enterprise"): 2000,
    }
    assert {limiter.limit_for("general", "pro").get_expiry()} == {60}


def test_daily_quotas_follow_seed_001() -> None:
    limiter = RateLimiter(GatewaySettings())

    free, pro, enterprise = (limiter.quota_for(p) for p in ("free", "pro", "enterprise"))

    assert free is not None and (free.amount, free.get_expiry()) == (1000, 86400)
    assert pro is not None and (pro.amount, pro.get_expiry()) == (10000, 86400)
    assert enterprise is None


def test_the_load_test_scale_multiplies_every_limit_and_quota() -> None:
    limiter = RateLimiter(GatewaySettings(rate_limit_scale=1000))

    assert limiter.limit_for("auth", "enterprise").amount == 5_000
    assert limiter.limit_for("general", "pro").amount == 500_000
    quota = limiter.quota_for("free")
    assert quota is not None and quota.amount == 1_000_000


def test_overrides_naming_an_unknown_class_or_plan_are_refused() -> None:
    with pytest.raises(ValueError, match="uploads"):
        RateLimiter(GatewaySettings(), class_limits={"uploads": "1/minute"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="gold"):
        RateLimiter(GatewaySettings(), daily_quotas={"gold": "1/day"})  # type: ignore[dict-item]


REFUSED = Decision(allowed=False, limit=5, remaining=0, reset=1_767_225_660, retry_after=42,
                   refused_by="auth", scope="ip", window="minute")


def test_a_refused_decision_carries_retry_after_with_the_rate_limit_headers() -> None:
    assert REFUSED.headers() == {
        "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1767225660", "Retry-After": "42",
    }


def test_an_allowed_decision_has_no_retry_after() -> None:
    allowed = Decision(allowed=True, limit=100, remaining=99, reset=1_767_225_660,
                       scope="user", window="minute")

    assert allowed.headers() == {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "99",
                                 "X-RateLimit-Reset": "1767225660"}


def test_a_decision_without_a_known_limit_has_no_headers() -> None:
    assert Decision(allowed=True).headers() == {}


def test_the_429_body_is_the_fleet_error_envelope() -> None:
    body = rate_limit_exceeded_body(REFUSED, request_id="req-1")

    assert body["success"] is False
    assert body["request_id"] == "req-1"
    assert body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert body["error"]["details"] == {"limit": 5, "window": "minute", "retry_after": 42,
                                        "scope": "ip"}
    assert "Retry after 42 seconds" in body["error"]["message"]


def test_the_429_as_a_domain_error_carries_the_headers() -> None:
    error = REFUSED.error()

    assert (error.status_code, error.code) == (429, "RATE_LIMIT_EXCEEDED")
    assert error.headers["Retry-After"] == "42"
    assert error.details["scope"] == "ip"
