"""`python -m gateway.identity migrate | grant-platform-admin EMAIL | revoke-platform-admin EMAIL`

Operators' commands on the gateway's database (settings from the `GATEWAY_*` environment).
Platform admins are made here, never through the API.
"""

from __future__ import annotations

import argparse
import asyncio

from gateway.identity import MIGRATIONS_DIR, service
from gateway.settings import GatewaySettings
from servicekit.db import Database
from servicekit.errors import DomainError
from servicekit.migrations import upgrade_database


async def _set_platform_admin(settings: GatewaySettings, email: str, granted: bool) -> None:
    db = Database(settings.database_url, service="gateway")
    try:
        async with db.unit_of_work() as uow:
            user = await service.set_platform_admin(uow, email, granted)
        print(f"{user.email}: platform admin {'granted' if granted else 'revoked'}")
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.identity")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the gateway's database to the latest schema")
    for name in ("grant-platform-admin", "revoke-platform-admin"):
        commands.add_parser(name).add_argument("email")
    args = parser.parse_args()
    settings = GatewaySettings()
    if args.command == "migrate":
        upgrade_database(MIGRATIONS_DIR, settings.database_url)
        return
    try:
        asyncio.run(_set_platform_admin(settings, args.email,
                                        args.command == "grant-platform-admin"))
    except DomainError as exc:
        raise SystemExit(f"{args.email}: {exc.message}") from exc


if __name__ == "__main__":
    main()
