"""Identity: organizations, users and roles, sign-in with rotating refresh tokens, API keys,
platform admins acting in other organizations, the audit trail, and the tokens the gateway
signs for clients and for services.

The gateway app wires it in with

    identity = IdentityRuntime(settings)      # app.state.identity; start()/stop() in lifespan
    app.include_router(...) for identity_routers()
    principal = await identity.authenticator.authenticate(headers)   # in its middleware
"""

from pathlib import Path

from gateway.identity.api import identity_routers
from gateway.identity.authenticate import Authenticator
from gateway.identity.passwords import Passwords
from gateway.identity.runtime import IdentityRuntime
from gateway.identity.tokens import TokenIssuer

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"

__all__ = ["MIGRATIONS_DIR", "Authenticator", "IdentityRuntime", "Passwords", "TokenIssuer",
           "identity_routers"]
