"""Access tokens are verified strictly, the public key is published as a JWK set, and the
tokens forwarded to services are the ones servicekit accepts."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from gateway.identity import TokenIssuer
from gateway.identity.testing import bearer, identity_fixtures, register
from gateway.principal import PLATFORM_ADMIN_SCOPE, Principal
from gateway.settings import GatewaySettings
from servicekit.identity import TokenVerifier, generate_keypair

identity_app, identity_client = identity_fixtures()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def signed(claims: dict, private_pem: str, **headers: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return jwt.encode(claims, key, algorithm="EdDSA",  # type: ignore[arg-type]
                      headers={"kid": "gateway-1", **headers})


@pytest.fixture
async def session(identity_client: httpx.AsyncClient) -> dict:
    return await register(identity_client)


async def me_status(client: httpx.AsyncClient, token: str) -> int:
    response = await client.get("/api/v1/users/me", headers=bearer(token))
    if response.status_code == 401:
        assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"
    return response.status_code


async def test_the_issued_access_token_carries_the_callers_claims(session: dict) -> None:
    header = jwt.get_unverified_header(session["access_token"])
    claims = claims_of(session["access_token"])
    assert (header["alg"], header["kid"]) == ("EdDSA", "gateway-1")
    assert claims["sub"] == session["user"]["id"]
    assert claims["org"] == session["organization"]["id"]
    assert (claims["role"], claims["plan"], claims["typ"], claims["adm"]) == (
        "owner", "free", "access", False)
    assert (claims["aud"], claims["iss"]) == ("smallbatch-api", "smallbatch-gateway")
    assert claims["exp"] - claims["iat"] == pytest.approx(900, abs=1)
    assert "act" not in claims and claims["jti"]


async def test_a_tampered_token_is_refused(identity_client: httpx.AsyncClient,
                                           session: dict) -> None:
    head, _, signature = session["access_token"].split(".")
    forged = {**claims_of(session["access_token"]), "adm": True}
    token = f"{head}.{b64(json.dumps(forged).encode())}.{signature}"
    assert await me_status(identity_client, token) == 401


async def test_an_unsigned_token_alg_none_is_refused(identity_client: httpx.AsyncClient,
                                                    session: dict) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "gateway-1"}).encode())
    payload = b64(json.dumps(claims_of(session["access_token"])).encode())
    assert await me_status(identity_client, f"{header}.{payload}.") == 401


async def test_a_token_signed_with_another_key_is_refused(
    identity_client: httpx.AsyncClient, session: dict,
) -> None:
    other_private, _ = generate_keypair()
    token = signed(claims_of(session["access_token"]), other_private)
    assert await me_status(identity_client, token) == 401


async def test_a_token_hmac_signed_with_the_public_key_is_refused(
    identity_client: httpx.AsyncClient, session: dict, token_keys: tuple[str, str],
) -> None:
    # PyJWT refuses to make one; an attacker would not.
    signing_input = ".".join([b64(json.dumps({"alg": "HS256", "kid": "gateway-1"}).encode()),
                              b64(json.dumps(claims_of(session["access_token"])).encode())])
    mac = hmac.new(token_keys[1].encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(mac)}"
    assert await me_status(identity_client, token) == 401


async def test_an_expired_token_is_refused(identity_client: httpx.AsyncClient,
                                           session: dict, token_keys: tuple[str, str]) -> None:
    now = int(time.time())
    token = signed({**claims_of(session["access_token"]), "iat": now - 120, "exp": now - 60},
                   token_keys[0])
    response = await identity_client.get("/api/v1/users/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Access token has expired"


async def test_a_token_for_another_audience_is_refused(
    identity_client: httpx.AsyncClient, session: dict, token_keys: tuple[str, str],
) -> None:
    token = signed({**claims_of(session["access_token"]), "aud": "smallbatch-services"},
                   token_keys[0])
    assert await me_status(identity_client, token) == 401


async def test_the_same_token_resigned_correctly_is_accepted(
    identity_client: httpx.AsyncClient, session: dict, token_keys: tuple[str, str],
) -> None:
    # The refusals above are about what they changed, not about the re-signing.
    token = signed(claims_of(session["access_token"]), token_keys[0])
    assert await me_status(identity_client, token) == 200


async def test_a_non_bearer_authorization_is_refused(identity_client: httpx.AsyncClient,
                                                     session: dict) -> None:
    response = await identity_client.get(
        "/api/v1/users/me", headers={"Authorization": f"Basic {session['access_token']}"})
    assert response.status_code == 401


async def test_the_published_jwks_verifies_an_access_token(
    identity_client: httpx.AsyncClient, session: dict,
) -> None:
    response = await identity_client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    [jwk] = response.json()["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"], jwk["kid"]) == (
        "OKP", "Ed25519", "EdDSA", "sig", "gateway-1")
    assert "d" not in jwk
    key = jwt.PyJWK(jwk)
    claims = jwt.decode(session["access_token"], key.key, algorithms=["EdDSA"],
                        audience="smallbatch-api", issuer="smallbatch-gateway")
    assert claims["sub"] == session["user"]["id"]


def issuer_for(token_keys: tuple[str, str]) -> TokenIssuer:
    return TokenIssuer(GatewaySettings(jwt_private_key=token_keys[0]))


def test_service_tokens_are_what_servicekit_verifies_and_are_reused(
    token_keys: tuple[str, str],
) -> None:
    tokens = issuer_for(token_keys)
    principal = Principal(kind="api_key", subject_id=uuid.uuid4(), org_id=uuid.uuid4(),
                          role="operator", scopes=frozenset({"inventory:read"}),
                          user_id=uuid.uuid4())
    token = tokens.service_token(principal)
    assert tokens.service_token(principal) is token

    caller = TokenVerifier(token_keys[1], audience="smallbatch-services").verify(token)
    assert (caller.user_id, caller.org_id, caller.role, caller.scopes) == (
        str(principal.subject_id), principal.org_id, "operator", frozenset({"inventory:read"}))
    claims = claims_of(token)
    assert (claims["kind"], claims["uid"]) == ("api_key", str(principal.user_id))
    assert claims["exp"] - claims["iat"] == 60


def test_a_platform_admins_service_token_carries_the_admin_scope(
    token_keys: tuple[str, str],
) -> None:
    admin = Principal(kind="user", subject_id=uuid.uuid4(), org_id=uuid.uuid4(), role="owner",
                      user_id=uuid.uuid4(), platform_admin=True, acting_for=uuid.uuid4())
    caller = TokenVerifier(token_keys[1], audience="smallbatch-services").verify(
        issuer_for(token_keys).service_token(admin))
    assert PLATFORM_ADMIN_SCOPE in caller.scopes


async def test_an_access_token_is_no_service_token(session: dict,
                                                   token_keys: tuple[str, str]) -> None:
    verifier = TokenVerifier(token_keys[1], audience="smallbatch-services")
    with pytest.raises(Exception, match="invalid"):
        verifier.verify(session["access_token"])
