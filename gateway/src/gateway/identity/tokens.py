"""The gateway's tokens, all signed with its one Ed25519 key.

- Access tokens (aud `access_token_audience`, typ "access"): what clients send back as
  `Authorization: Bearer`. Stateless; verified here on every request.
- Service tokens (aud `service_token_audience`): what the gateway forwards to a service, in
  the shape `servicekit.identity.TokenVerifier` reads. The two audiences keep either kind
  from being accepted where the other belongs.
- Refresh tokens are not JWTs: opaque random strings, only their sha256 is stored
  (see `service.py`).
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, get_args

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from gateway.identity.models import Organization, User
from gateway.principal import Plan, Principal
from gateway.settings import GatewaySettings
from servicekit.errors import AuthenticationRequired
from servicekit.identity import ROLES, Role, TokenSigner

ALGORITHM = "EdDSA"
PLANS = frozenset(get_args(Plan))
SERVICE_TOKEN_CACHE_SIZE = 10_000


class InvalidAccessToken(AuthenticationRequired):
    default_message = "Access token is invalid"


class ExpiredAccessToken(AuthenticationRequired):
    default_message = "Access token has expired"


@dataclass(frozen=True, slots=True)
class VerifiedAccess:
    principal: Principal
    issued_at: float
    expires_at: int


class TokenIssuer:
    def __init__(self, settings: GatewaySettings) -> None:
        pem = settings.private_key_pem()
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise RuntimeError("the gateway's signing key must be an Ed25519 private key")
        self._public_key = key.public_key()
        self.key_id = settings.jwt_key_id
        self.issuer = settings.jwt_issuer
        self.access_audience = settings.access_token_audience
        self.access_ttl_seconds = settings.access_token_ttl_seconds
        self.refresh_ttl_seconds = settings.refresh_token_ttl_seconds
        self.service_ttl_seconds = settings.service_token_ttl_seconds
        self._access = TokenSigner(pem, issuer=self.issuer, audience=self.access_audience,
                                   ttl=timedelta(seconds=self.access_ttl_seconds),
                                   algorithm=ALGORITHM, key_id=self.key_id)
        self._service = TokenSigner(pem, issuer=self.issuer,
                                    audience=settings.service_token_audience,
                                    ttl=timedelta(seconds=self.service_ttl_seconds),
                                    algorithm=ALGORITHM, key_id=self.key_id)
        # principal -> (token, monotonic time after which to sign a fresh one)
        self._service_tokens: OrderedDict[Principal, tuple[str, float]] = OrderedDict()

    def access_token(self, user: User, org: Organization, *, role: Role | None = None,
                     acting_for: uuid.UUID | None = None) -> str:
        """An access token for `user` in `org`: their own, or, for a platform admin acting
        in another organization (`acting_for` = the admin's home organization), that one."""
        # `iat` to the millisecond (NumericDate allows fractions): a sign-out ends the tokens
        # issued before it, even within the same second.
        extra: dict[str, Any] = {"typ": "access", "jti": uuid.uuid4().hex, "plan": org.plan,
                                 "adm": bool(user.is_platform_admin),
                                 "iat": round(time.time(), 3)}
        if acting_for is not None:
            extra["act"] = str(acting_for)
        return self._access.sign(user_id=str(user.id), org_id=org.id,
                                 role=role or user.role,  # type: ignore[arg-type]
                                 **extra)

    def verify_access(self, token: str) -> Principal:
        return self.decode_access(token).principal

    def decode_access(self, token: str) -> VerifiedAccess:
        """Verify an access token (EdDSA only, this gateway's key, audience, issuer, expiry);
        any failure is a 401."""
        try:
            decoded = jwt.decode_complete(
                token, self._public_key, algorithms=[ALGORITHM],
                audience=self.access_audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise ExpiredAccessToken() from exc
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise InvalidAccessToken() from exc
        kid = decoded["header"].get("kid")
        claims = decoded["payload"]
        if (kid is not None and kid != self.key_id) or claims.get("typ") != "access":
            raise InvalidAccessToken()
        try:
            user_id = uuid.UUID(claims["sub"])
            org_id = uuid.UUID(claims["org"])
            acting_for = uuid.UUID(claims["act"]) if claims.get("act") else None
            scopes = frozenset(str(s) for s in claims.get("scopes") or ())
            issued_at, expires_at = float(claims["iat"]), int(claims["exp"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidAccessToken() from exc
        role, plan = claims.get("role"), claims.get("plan", "free")
        if role not in ROLES or plan not in PLANS:
            raise InvalidAccessToken()
        principal = Principal(kind="user", subject_id=user_id, org_id=org_id, role=role,
                              plan=plan, scopes=scopes, user_id=user_id,
                              platform_admin=claims.get("adm") is True, acting_for=acting_for)
        return VerifiedAccess(principal, issued_at, expires_at)

    def service_token(self, principal: Principal) -> str:
        """The short-lived token a service accepts for `principal`'s request.

        Signing costs more than a request should pay, so one token serves a principal for
        half its lifetime: a service never receives one with less than half of it left.
        """
        now = time.monotonic()
        cached = self._service_tokens.get(principal)
        if cached is not None and cached[1] > now:
            self._service_tokens.move_to_end(principal)
            return cached[0]
        extra: dict[str, Any] = {"kind": principal.kind, "plan": principal.plan}
        if principal.user_id is not None:
            extra["uid"] = str(principal.user_id)
        if principal.acting_for is not None:
            extra["act"] = str(principal.acting_for)
        token = self._service.sign(user_id=str(principal.subject_id), org_id=principal.org_id,
                                   role=principal.role, scopes=principal.service_scopes,
                                   **extra)
        self._service_tokens[principal] = (token, now + self.service_ttl_seconds / 2)
        self._service_tokens.move_to_end(principal)
        if len(self._service_tokens) > SERVICE_TOKEN_CACHE_SIZE:
            self._service_tokens.popitem(last=False)
        return token

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public key as a JWK set, for `/.well-known/jwks.json`."""
        jwk = OKPAlgorithm.to_jwk(self._public_key, as_dict=True)
        return {"keys": [{**jwk, "kid": self.key_id, "alg": ALGORITHM, "use": "sig"}]}

    def public_key_pem(self) -> str:
        return self._public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
        ).decode()
