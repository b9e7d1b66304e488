"""`python -m launcher embedded|fleet|migrate|keys|token`."""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from pathlib import Path

from servicekit.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m launcher")
    parser.add_argument("--var-dir", type=Path, default=Path(env("SMALLBATCH_VAR_DIR", "var")))
    parser.add_argument("--host", default=env("SMALLBATCH_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("SMALLBATCH_PORT", "8000")))
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("embedded", help="the whole fleet in one process (default)")
    for name in ("fleet", "migrate"):
        sub = commands.add_parser(name, help=f"{name} against PostgreSQL and RabbitMQ")
        sub.add_argument("--postgres-url", default=env("SMALLBATCH_POSTGRES_URL",
                                                       "postgresql://postgres@127.0.0.1:5432"))
        sub.add_argument("--amqp-url", default=env("SMALLBATCH_AMQP_URL",
                                                   "amqp://guest:guest@127.0.0.1:5672/"))
        sub.add_argument("--redis-url", default=env("SMALLBATCH_REDIS_URL",
                                                    "redis://127.0.0.1:6379/0"))
        sub.add_argument("--db-prefix", default=env("SMALLBATCH_DB_PREFIX", "smallbatch_"))
        sub.add_argument("--namespace", default=env("SMALLBATCH_BROKER_NAMESPACE", ""))
        sub.add_argument("--restart-delay", type=float,
                         default=float(env("SMALLBATCH_RESTART_DELAY_SECONDS", "1")),
                         help="seconds before a process that exited is started again "
                              "(doubling while it keeps failing)")
    keys = commands.add_parser("keys", help="write the token-signing key pair to a folder")
    keys.add_argument("directory", type=Path)
    token = commands.add_parser("token", help="sign a service token for local experiments")
    token.add_argument("--org", default=str(uuid.UUID(int=1)))
    token.add_argument("--role", default="owner",
                       choices=["owner", "manager", "operator", "viewer"])
    token.add_argument("--user", default="local-developer")
    token.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args(argv)
    command = args.command or "embedded"

    if command == "keys":
        from launcher.keys import ensure_keys

        for path in ensure_keys(args.directory):
            print(path)
        return 0
    if command == "token":
        from datetime import timedelta

        from launcher.keys import ensure_keys
        from servicekit.identity import TokenSigner

        private, _ = ensure_keys(args.var_dir / "keys")
        signer = TokenSigner(private.read_text())
        print(signer.sign(user_id=args.user, org_id=args.org, role=args.role,
                          ttl=timedelta(minutes=args.minutes)))
        return 0
    configure_logging("launcher", env("SMALLBATCH_LOG_LEVEL", "INFO"),
                      json=env("SMALLBATCH_LOG_JSON", "false").lower() == "true")
    if command == "embedded":
        from launcher.embedded import serve_embedded
        from launcher.keys import ensure_keys

        var_dir = args.var_dir.resolve()
        ensure_keys(var_dir / "keys")
        asyncio.run(serve_embedded(var_dir, args.host, args.port))
        return 0
    from launcher.fleet import FleetConfig, create_databases, migrate_all, run_fleet, service_env

    config = FleetConfig(postgres_url=args.postgres_url, amqp_url=args.amqp_url,
                         redis_url=args.redis_url, var_dir=args.var_dir, host=args.host,
                         port=args.port, db_prefix=args.db_prefix, namespace=args.namespace,
                         restart_delay=args.restart_delay)
    if command == "migrate":
        from launcher.keys import ensure_keys

        private_key, public_key = ensure_keys(args.var_dir / "keys")
        asyncio.run(create_databases(config))
        migrate_all(service_env(config, private_key, public_key))
        return 0
    return run_fleet(config)


if __name__ == "__main__":
    raise SystemExit(main())
