"""The caller's identity, taken only from the token the gateway signed.

The gateway authenticates people and API keys, then forwards a short-lived token it signs with
its private key (EdDSA). Every service verifies that token itself with the gateway's public key
and takes the organization from it, never from the request body or path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request

from servicekit.errors import AuthenticationRequired, InsufficientPermissions

Role = Literal["owner", "manager", "operator", "viewer"]
ROLES: tuple[Role, ...] = ("owner", "manager", "operator", "viewer")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# `openapi_extra` of a POST route that only reads (a stock check, a conversion): viewers may
# call it.
READ_ONLY: dict[str, Any] = {"x-smallbatch-read-only": True}


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str
    org_id: uuid.UUID
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)
    token: str = field(default="", repr=False)

    @property
    def can_write(self) -> bool:
        return self.role != "viewer"


def generate_keypair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


class TokenSigner:
    """Signs the internal tokens services accept (the gateway's job; tests use it too)."""

    def __init__(self, private_key_pem: str, *, issuer: str = "smallbatch-gateway",
                 audience: str = "smallbatch-services", ttl: timedelta = timedelta(minutes=2),
                 algorithm: str = "EdDSA", key_id: str | None = None) -> None:
        self._key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.algorithm = algorithm
        self.key_id = key_id

    def sign(self, *, user_id: str, org_id: uuid.UUID | str, role: Role,
             scopes: frozenset[str] | list[str] = frozenset(),
             ttl: timedelta | None = None, **extra: Any) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": user_id,
            "org": str(org_id),
            "role": role,
            "scopes": sorted(scopes),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + (ttl if ttl is not None else self.ttl),
            **extra,
        }
        headers = {"kid": self.key_id} if self.key_id else None
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=headers)  # type: ignore[arg-type]


class TokenVerifier:
    def __init__(self, public_key_pem: str, *, issuer: str = "smallbatch-gateway",
                 audience: str = "smallbatch-services") -> None:
        self._key = serialization.load_pem_public_key(public_key_pem.encode())
        # Accept only the algorithm this key is for: a token naming another one is refused
        # before any key handling (no algorithm confusion, no alg "none").
        self._algorithms = ["RS256"] if isinstance(self._key, rsa.RSAPublicKey) else ["EdDSA"]
        self.issuer = issuer
        self.audience = audience

    def verify(self, token: str) -> Caller:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=self._algorithms,  # type: ignore[arg-type]
                audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationRequired("Token has expired") from exc
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            raise AuthenticationRequired("Token is invalid") from exc
        role = claims.get("role")
        try:
            org_id = uuid.UUID(str(claims.get("org")))
        except ValueError as exc:
            raise AuthenticationRequired("Token names no organization") from exc
        if role not in ROLES:
            raise AuthenticationRequired("Token names no known role")
        return Caller(user_id=str(claims["sub"]), org_id=org_id, role=role,
                      scopes=frozenset(claims.get("scopes") or ()), token=token)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired("A bearer token is required")
    return token.strip()


async def current_caller(request: Request) -> Caller:
    """Verify the gateway's token; refuse writes by viewers anywhere in the fleet."""
    cached = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    verifier: TokenVerifier = request.app.state.token_verifier
    caller = verifier.verify(bearer_token(request))
    if request.method not in SAFE_METHODS and not caller.can_write and not _reads_only(request):
        raise InsufficientPermissions("Viewers cannot change anything")
    request.state.caller = caller
    return caller


def _reads_only(request: Request) -> bool:
    route = request.scope.get("route")
    return bool((getattr(route, "openapi_extra", None) or {}).get("x-smallbatch-read-only"))


CallerDep = Annotated[Caller, Depends(current_caller)]


def require_role(*roles: Role) -> Any:
    """A dependency that admits only callers with one of `roles`."""

    async def dependency(caller: CallerDep) -> Caller:
        if caller.role not in roles:
            raise InsufficientPermissions(f"This action needs the role {' or '.join(roles)}")
        return caller

    return Depends(dependency)
