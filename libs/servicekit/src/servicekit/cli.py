"""`python -m <service> api|worker|migrate`: one entry point shape for every service."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from servicekit.logging import configure_logging
from servicekit.migrations import upgrade_database
from servicekit.settings import ServiceSettings


def run_service(settings: ServiceSettings, create_app: Callable[..., FastAPI],
                migrations_dir: Path, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {settings.service_name}")
    parser.add_argument("command", choices=["api", "worker", "all", "migrate"])
    parser.add_argument("--port", type=int, default=None, help="HTTP port (api, worker, all)")
    args = parser.parse_args(argv)
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    if args.command == "migrate":
        upgrade_database(migrations_dir, settings.database_url)
        return
    import uvicorn

    app = create_app(settings, role=args.command)
    uvicorn.run(app, host=settings.host, port=args.port or settings.port,
                log_config=None, access_log=False, lifespan="on")
