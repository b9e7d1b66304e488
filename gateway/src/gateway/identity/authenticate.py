"""Who is calling: the credentials of every request the gateway lets in, checked fast.

This runs before every API request, so it avoids work: a verified access token is remembered
(bounded LRU) until it expires, and an API key's database lookup is reused for a few seconds.
What this process changes takes effect at once (a revoked key, a deactivated user); other
gateway replicas notice within the API-key cache time, or for access tokens at their expiry.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TypeVar

from gateway.identity import service
from gateway.identity.domain import digest
from gateway.identity.tokens import TokenIssuer
from gateway.principal import Principal
from gateway.settings import GatewaySettings
from servicekit.db import Database
from servicekit.errors import AuthenticationRequired

V = TypeVar("V")


class UnsupportedCredentials(AuthenticationRequired):
    default_message = "Send `Authorization: Bearer <access token>` or `x-api-key: <key>`"


class SessionEnded(AuthenticationRequired):
    default_message = "This access token was ended (sign-out, role or password change)"


class Authenticator:
    def __init__(self, settings: GatewaySettings, db: Database, tokens: TokenIssuer, *,
                 api_key_cache_seconds: float = 5.0, max_cached: int = 10_000,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.tokens = tokens
        self.api_key_cache_seconds = api_key_cache_seconds
        self.max_cached = max_cached
        self._clock = clock
        self._access_ttl = settings.access_token_ttl_seconds
        # token -> (principal, issued at, expires at), both in epoch seconds
        self._access: OrderedDict[str, tuple[Principal, float, int]] = OrderedDict()
        # sha256 of the key -> (principal, when looked up)
        self._api_keys: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        # user -> epoch time before which their access tokens no longer count
        self._ended: dict[uuid.UUID, float] = {}

    async def authenticate(self, headers: Mapping[str, str], *,
                           lenient: bool = False) -> Principal | None:
        """The caller named by `Authorization: Bearer` or `x-api-key` (header names in
        lower case, or a case-insensitive mapping such as Starlette's `Headers`); None
        when neither is sent. Bad credentials raise `AuthenticationRequired` (401), or
        with `lenient` count as none at all: sign-in routes must still answer a client
        that sends a stale token along."""
        authorization = headers.get("authorization")
        api_key = headers.get("x-api-key")
        try:
            if authorization is not None and api_key is not None:
                raise UnsupportedCredentials("Send either a bearer token or an API key, "
                                             "not both")
            if authorization is not None:
                scheme, _, token = authorization.partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    raise UnsupportedCredentials()
                return self._bearer(token.strip())
            if api_key is not None:
                return await self._api_key(api_key.strip())
        except AuthenticationRequired:
            if lenient:
                return None
            raise
        return None

    def _bearer(self, token: str) -> Principal:
        now = self._clock()
        cached = self._access.get(token)
        if cached is None:
            verified = self.tokens.decode_access(token)
            cached = (verified.principal, verified.issued_at, verified.expires_at)
            self._remember(self._access, token, cached)
        else:
            self._access.move_to_end(token)
        principal, issued_at, expires_at = cached
        if expires_at <= now:
            self._access.pop(token, None)
            raise AuthenticationRequired("Access token has expired")
        ended = self._ended.get(principal.subject_id)
        if ended is not None and issued_at < ended:
            raise SessionEnded()
        return principal

    async def _api_key(self, raw: str) -> Principal:
        key_hash = digest(raw)
        cached = self._api_keys.get(key_hash)
        if cached is not None and self._clock() - cached[1] < self.api_key_cache_seconds:
            return cached[0]
        async with self.db.unit_of_work() as uow:
            principal = await service.authenticate_api_key(uow, raw)
        self._remember(self._api_keys, key_hash, (principal, self._clock()))
        return principal

    def _remember(self, cache: OrderedDict[str, V], key: str, value: V) -> None:
        cache[key] = value
        cache.move_to_end(key)
        if len(cache) > self.max_cached:
            cache.popitem(last=False)

    def forget_api_key(self, key_id: uuid.UUID) -> None:
        """A key was revoked or regenerated here: stop accepting its cached lookup now."""
        for key_hash, (principal, _) in list(self._api_keys.items()):
            if principal.subject_id == key_id:
                del self._api_keys[key_hash]

    def end_sessions(self, user_id: uuid.UUID, at: float) -> None:
        """The user's access tokens issued before `at` stop working in this process, and
        the API keys they created are looked up again (their role or status changed)."""
        now = self._clock()
        # An entry older than an access token's lifetime outlived every token it refuses.
        self._ended = {u: t for u, t in self._ended.items() if t > now - self._access_ttl}
        self._ended[user_id] = max(at, self._ended.get(user_id, 0.0))
        for key_hash, (principal, _) in list(self._api_keys.items()):
            if principal.user_id == user_id:
                del self._api_keys[key_hash]
