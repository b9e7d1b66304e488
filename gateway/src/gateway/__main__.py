"""`python -m gateway [serve|migrate]`: read the settings once, then serve or migrate."""

from __future__ import annotations

import argparse

import uvicorn

from gateway.app import MIGRATIONS_DIR, create_app
from gateway.settings import GatewaySettings
from servicekit.logging import configure_logging
from servicekit.migrations import upgrade_database


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_json)
    if args.command == "migrate":
        upgrade_database(MIGRATIONS_DIR, settings.database_url)
        return
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_config=None, access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
