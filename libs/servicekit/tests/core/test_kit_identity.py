"""The caller's identity comes only from a token the gateway signed, and nothing else gets in."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from servicekit.errors import install_error_handlers
from servicekit.identity import (
    CallerDep,
    TokenSigner,
    TokenVerifier,
    generate_keypair,
    require_role,
)
from servicekit.middleware import RequestContextMiddleware

ORG_ID = uuid.UUID("6f1c2a9e-0b7d-4c1e-9f3a-2d4b5c6e7f80")
ISSUER = "smallbatch-gateway"
AUDIENCE = "smallbatch-services"


def build_app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = verifier
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/whoami")
    async def whoami(caller: CallerDep) -> dict[str, Any]:
        return {"user_id": caller.user_id, "org_id": str(caller.org_id),
                "org_id_is_uuid": isinstance(caller.org_id, uuid.UUID),
                "role": caller.role, "scopes": sorted(caller.scopes)}

    @app.post("/things", status_code=201)
    async def create_thing(caller: CallerDep) -> dict[str, str]:
        return {"created_by": caller.user_id}

    @app.delete("/org", dependencies=[require_role("owner")])
    async def close_org() -> dict[str, bool]:
        return {"closed": True}

    return app


def rsa_keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def valid_claims(**overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "user-1", "org": str(ORG_ID), "role": "owner", "scopes": [],
              "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 120}
    claims.update(overrides)
    return claims


@pytest.fixture(scope="module")
def gateway_keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture(scope="module")
def signer(gateway_keys: tuple[str, str]) -> TokenSigner:
    return TokenSigner(gateway_keys[0])


@pytest.fixture(scope="module")
def encode_claims(gateway_keys: tuple[str, str]) -> Callable[[dict[str, Any]], str]:
    """Sign arbitrary claims with the gateway's key (for claims TokenSigner would not write)."""
    key = serialization.load_pem_private_key(gateway_keys[0].encode(), password=None)
    return lambda claims: jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]


@pytest.fixture
async def client(gateway_keys: tuple[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(TokenVerifier(gateway_keys[1]))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_valid_token_names_the_caller(client: httpx.AsyncClient,
                                              signer: TokenSigner) -> None:
    token = signer.sign(user_id="user-1", org_id=ORG_ID, role="manager",
                        scopes=["stock:write", "batches:read"])

    response = await client.get("/whoami", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {
        "user_id": "user-1", "org_id": str(ORG_ID), "org_id_is_uuid": True,
        "role": "manager", "scopes": ["batches:read", "stock:write"],
    }


async def test_an_rs256_token_is_accepted_by_a_verifier_holding_its_rsa_public_key() -> None:
    private_pem, public_pem = rsa_keypair()
    token = TokenSigner(private_pem, algorithm="RS256").sign(
        user_id="user-1", org_id=ORG_ID, role="operator")
    transport = httpx.ASGITransport(app=build_app(TokenVerifier(public_pem)))
    async with httpx.AsyncClient(transport=transport, base_url="http://kit.test") as client:
        response = await client.get("/whoami", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["role"] == "operator"


def tampered(token: str) -> str:
    header, claims, signature = token.split(".")
    # Change the first character: a trailing one may only carry base64 padding bits.
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    return f"{header}.{claims}.{flipped}"


def unsigned(_: TokenSigner) -> str:
    return f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(valid_claims())}."


def signed_by_another_ed25519_key(_: TokenSigner) -> str:
    return TokenSigner(generate_keypair()[0]).sign(user_id="u", org_id=ORG_ID, role="owner")


BAD_TOKENS: dict[str, Callable[[TokenSigner], str]] = {
    "tampered-signature": lambda s: tampered(s.sign(user_id="u", org_id=ORG_ID, role="owner")),
    "alg-none": unsigned,
    "another-key": signed_by_another_ed25519_key,
    "expired": lambda s: s.sign(user_id="u", org_id=ORG_ID, role="owner",
                                ttl=timedelta(seconds=-30)),
    "unknown-role": lambda s: s.sign(user_id="u", org_id=ORG_ID, role="admin"),  # type: ignore[arg-type]
    "org-not-a-uuid": lambda s: s.sign(user_id="u", org_id="acme", role="owner"),
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_a_bad_token_is_refused_with_401(client: httpx.AsyncClient, signer: TokenSigner,
                                               make_token: Callable[[TokenSigner], str]) -> None:
    response = await client.get("/whoami", headers=bearer(make_token(signer)))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("signer_options", [{"audience": "someone-else"},
                                            {"issuer": "not-the-gateway"}],
                         ids=["wrong-audience", "wrong-issuer"])
async def test_a_token_for_another_audience_or_from_another_issuer_is_refused_with_401(
        client: httpx.AsyncClient, gateway_keys: tuple[str, str],
        signer_options: dict[str, str]) -> None:
    token = TokenSigner(gateway_keys[0], **signer_options).sign(
        user_id="u", org_id=ORG_ID, role="owner")

    response = await client.get("/whoami", headers=bearer(token))

    assert response.status_code == 401


async def test_a_token_without_an_org_claim_is_refused_with_401(
        client: httpx.AsyncClient, encode_claims: Callable[[dict[str, Any]], str]) -> None:
    claims = valid_claims()
    del claims["org"]

    response = await client.get("/whoami", headers=bearer(encode_claims(claims)))

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Token names no organization"


async def test_a_token_without_an_expiry_is_refused_with_401(
        client: httpx.AsyncClient, encode_claims: Callable[[dict[str, Any]], str]) -> None:
    claims = valid_claims()
    del claims["exp"]

    response = await client.get("/whoami", headers=bearer(encode_claims(claims)))

    assert response.status_code == 401


async def test_a_token_whose_header_names_rs256_is_refused_with_401_by_an_ed25519_verifier(
        client: httpx.AsyncClient) -> None:
    # Anyone can write this header; it must not reach the Ed25519 key as a server error.
    token = f"{b64url({'alg': 'RS256', 'typ': 'JWT'})}.{b64url(valid_claims())}.c2lnbmF0dXJl"

    response = await client.get("/whoami", headers=bearer(token))

    assert response.status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"},
                                     {"Authorization": "Bearer "}],
                         ids=["no-header", "basic-scheme", "empty-bearer"])
async def test_a_request_without_a_bearer_token_is_refused_with_401(
        client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/whoami", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "A bearer token is required"


async def test_a_viewer_may_read(client: httpx.AsyncClient, signer: TokenSigner) -> None:
    token = signer.sign(user_id="v", org_id=ORG_ID, role="viewer")

    response = await client.get("/whoami", headers=bearer(token))

    assert response.status_code == 200


async def test_a_viewer_may_not_write(client: httpx.AsyncClient, signer: TokenSigner) -> None:
    token = signer.sign(user_id="v", org_id=ORG_ID, role="viewer")

    response = await client.post("/things", headers=bearer(token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"


async def test_require_role_refuses_a_manager_where_an_owner_is_needed(
        client: httpx.AsyncClient, signer: TokenSigner) -> None:
    token = signer.sign(user_id="m", org_id=ORG_ID, role="manager")

    response = await client.delete("/org", headers=bearer(token))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INSUFFICIENT_PERMISSIONS"


async def test_require_role_admits_the_named_role(client: httpx.AsyncClient,
                                                  signer: TokenSigner) -> None:
    token = signer.sign(user_id="o", org_id=ORG_ID, role="owner")

    response = await client.delete("/org", headers=bearer(token))

    assert response.status_code == 200
