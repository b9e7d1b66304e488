"""What identity needs while the gateway runs, built once by `create_app` and kept at
`app.state.identity`."""

from __future__ import annotations

import logging

from gateway.identity import service
from gateway.identity.authenticate import Authenticator
from gateway.identity.passwords import Passwords
from gateway.identity.tokens import TokenIssuer
from gateway.principal import Principal
from gateway.settings import GatewaySettings
from servicekit.db import Database
from servicekit.health import CheckResult

logger = logging.getLogger("gateway.identity")


class IdentityRuntime:
    """The gateway's database, its token issuer and the authenticator built on both.

    Nothing connects until the first query; `start()` and `stop()` belong in the app's
    lifespan. `passwords` may be given a cheaper argon2 hasher (tests); production keeps
    pwdlib's defaults.
    """

    def __init__(self, settings: GatewaySettings, *, db: Database | None = None,
                 passwords: Passwords | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url, service="gateway")
        self.tokens = TokenIssuer(settings)
        self.passwords = passwords or Passwords()
        self.authenticator = Authenticator(settings, self.db, self.tokens)

    async def start(self) -> None:
        await self.passwords.warm_up()

    async def stop(self) -> None:
        await self.db.dispose()

    async def ping(self) -> CheckResult:
        """The gateway's readiness check of its own database."""
        await self.db.ping()
        return CheckResult("pass")

    async def audit_acting_request(self, principal: Principal, method: str, path: str) -> None:
        """Record a request a platform admin made in another organization's context.

        Called after the response went out, so a failure can only be logged."""
        try:
            async with self.db.unit_of_work() as uow:
                await service.record_acting_request(uow, principal, method, path)
        except Exception:
            logger.exception("could not audit a platform admin's request",
                             extra={"org_id": str(principal.org_id), "path": path})
