"""Benchmark: what the gateway costs in front of a service, against nginx as a plain proxy.

    uv run python benchmarks/gateway_proxy.py [--seconds 10] [--rounds 2] [--write]

Needs the local PostgreSQL and Redis, and Debian's nginx and wrk (`apt-get install nginx wrk`).
Measures, on this machine, in one run:

1. `GET /api/v1/inventory/items` (20 items) straight at the inventory service, through the
   gateway (authenticated by an access token, rate-limited in Redis, re-signed for the
   service), and through nginx as a plain reverse proxy: wrk at 32 connections for
   throughput, and an open-loop sender at a fixed 200 requests/s for p50/p99 latency. The
   load is spread over 64 organizations' owners, with every limit raised 20-fold, so each
   caller's moving window stays the size a real one has while none is refused.
2. The bare proxy cost: the gateway and nginx in front of an nginx that answers `return 200`.

With --write the results replace the gateway section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import asyncpg
import httpx
from docs_section import write_section

from servicekit.identity import TokenSigner, generate_keypair

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("SMALLBATCH_TEST_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("SMALLBATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PATH = "/api/v1/inventory/items"
CONNECTIONS = 32
FIXED_RATE = 200  # requests/s
CALLERS = 64  # organizations (one owner each) the load is spread over


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def token_script(tokens: list[str], workdir: Path) -> Path:
    """A wrk script that sends each request with the next caller's token."""
    path = workdir / f"tokens-{uuid.uuid4().hex[:6]}.lua"
    listed = ",\n".join(f'  "{token}"' for token in tokens)
    path.write_text(f"""tokens = {{
{listed}
}}
counter = 0
request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  return wrk.format("GET", nil, {{["Authorization"] = "Bearer " .. token}})
end
""")
    return path


def wrk(url: str, script: Path, seconds: int) -> Load:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script),
         url],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses under load")
    return Load(rps, _ms(*p50.groups()), _ms(*p99.groups()))  # type: ignore[union-attr]


async def _fixed_rate(url: str, tokens: list[str], seconds: int) -> Load:
    """Open loop: a request every 1/FIXED_RATE s whatever the answers do, so queueing shows
    in the latency instead of slowing the sender (and no burst lines up, as fixed-rate
    workers that tick together would)."""
    latencies: list[float] = []
    errors: list[int] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(token: str) -> None:
            started = time.perf_counter()
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
                await r.read()
                if r.status != 200:
                    errors.append(r.status)
            latencies.append(time.perf_counter() - started)

        tasks = []
        interval = 1 / FIXED_RATE
        began = time.perf_counter()
        for n in range(seconds * FIXED_RATE):
            delay = began + n * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(tokens[n % len(tokens)])))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{url}: {len(errors)} error responses at the fixed rate")
    latencies.sort()
    return Load(len(latencies) / elapsed, latencies[len(latencies) // 2] * 1000,
                latencies[int(len(latencies) * 0.99)] * 1000)


def fixed_rate(url: str, tokens: list[str], seconds: int) -> Load:
    return asyncio.run(_fixed_rate(url, tokens, seconds))


def nginx(stack: ExitStack, workdir: Path, name: str, body: str) -> int:
    """Start an nginx with one server block; its port."""
    port = free_port()
    conf = workdir / f"{name}.conf"
    conf.write_text(f"""
worker_processes 1;
pid {workdir}/{name}.pid;
error_log {workdir}/{name}.error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/{name}.body;
    proxy_temp_path {workdir}/{name}.proxy;
    {body.replace("PORT", str(port))}
}}
""")
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(workdir)])
    stack.callback(process.wait, 10)
    stack.callback(process.terminate)
    wait_until_up(f"http://127.0.0.1:{port}/")
    return port


def nginx_proxy(stack: ExitStack, workdir: Path, name: str, upstream_port: int) -> int:
    return nginx(stack, workdir, name, f"""
    upstream service {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:PORT;
        location / {{
            proxy_pass http://service;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}""")


def start(stack: ExitStack, args: list[str], env: dict[str, str], health: str) -> None:
    process = subprocess.Popen([sys.executable, "-m", *args], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(process.wait, 10)
    stack.callback(process.terminate)
    wait_until_up(health)


async def create_database(name: str) -> str:
    conn = await asyncpg.connect(POSTGRES)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"


async def drop_databases(names: list[str]) -> None:
    conn = await asyncpg.connect(POSTGRES)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def sign_up_callers(gateway_url: str, private_pem: str,
                          run_id: str) -> tuple[list[str], list[str]]:
    """CALLERS organizations with 20 items each: their owners' access tokens, and the
    matching service tokens (what the gateway would forward) for the direct runs."""
    signer = TokenSigner(private_pem, ttl=timedelta(hours=1))
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:

        async def one(n: int) -> tuple[str, str]:
            registered = (await client.post("/api/v1/auth/register", json={
                "organization_name": f"Bench Soaps {n}", "first_name": "B", "last_name": "M",
                "email": f"bench-{run_id}-{n}@example.com", "password": "benchmark password",
            })).raise_for_status().json()
            headers = {"Authorization": f"Bearer {registered['access_token']}"}
            for i in range(20):
                (await client.post(PATH, headers=headers, json={
                    "name": f"Oil {i:02d}", "type": "ingredient", "default_unit": "g",
                })).raise_for_status()
            service = signer.sign(user_id=registered["user"]["id"], role="owner",
                                  org_id=registered["organization"]["id"])
            return registered["access_token"], service

        pairs = []
        for start in range(0, CALLERS, 8):
            pairs += await asyncio.gather(*(one(n) for n in range(start, start + 8)))
    return [a for a, _ in pairs], [s for _, s in pairs]


def run(seconds: int, rounds: int) -> str:
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install nginx wrk")
    run_id = uuid.uuid4().hex[:8]
    databases = [f"bench_{run_id}_inventory", f"bench_{run_id}_gateway"]
    private_pem, public_pem = generate_keypair()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        (workdir / "private.pem").write_text(private_pem)
        inventory_db, gateway_db = (asyncio.run(create_database(n)) for n in databases)
        stack.callback(lambda: asyncio.run(drop_databases(databases)))
        inventory_port, gateway_port = free_port(), free_port()
        env = {**os.environ, "INVENTORY_DATABASE_URL": inventory_db,
               "INVENTORY_BROKER_URL": "memory://", "INVENTORY_JWT_PUBLIC_KEY": public_pem,
               "INVENTORY_PORT": str(inventory_port), "INVENTORY_LOG_LEVEL": "WARNING",
               "GATEWAY_DATABASE_URL": gateway_db, "GATEWAY_PORT": str(gateway_port),
               "GATEWAY_JWT_PRIVATE_KEY_FILE": str(workdir / "private.pem"),
               "GATEWAY_INVENTORY_URL": f"http://127.0.0.1:{inventory_port}",
               "GATEWAY_REDIS_URL": REDIS, "GATEWAY_RATE_LIMIT_SCALE": "20",
               "GATEWAY_RATE_LIMIT_KEY_PREFIX": f"bench:{run_id}",
               "GATEWAY_LOG_LEVEL": "WARNING"}
        subprocess.run([sys.executable, "-m", "inventory", "migrate"], env=env, check=True,
                       cwd=ROOT)
        subprocess.run([sys.executable, "-m", "gateway", "migrate"], env=env, check=True,
                       cwd=ROOT)
        start(stack, ["inventory", "api"], env, f"http://127.0.0.1:{inventory_port}/health/live")
        start(stack, ["gateway"], env, f"http://127.0.0.1:{gateway_port}/health/live")
        gateway_url = f"http://127.0.0.1:{gateway_port}"

        access, service = asyncio.run(sign_up_callers(gateway_url, private_pem, run_id))
        access_script = token_script(access, workdir)
        service_script = token_script(service, workdir)

        nginx_port = nginx_proxy(stack, workdir, "proxy", inventory_port)
        trivial_port = nginx(stack, workdir, "trivial", """
    server {
        listen 127.0.0.1:PORT;
        location / { default_type application/json; return 200 '{"items": []}'; }
    }""")
        nginx_trivial_port = nginx_proxy(stack, workdir, "proxy_trivial", trivial_port)
        trivial_gateway_port = free_port()
        start(stack, ["gateway"], {**env, "GATEWAY_PORT": str(trivial_gateway_port),
                                   "GATEWAY_INVENTORY_URL": f"http://127.0.0.1:{trivial_port}",
                                   "GATEWAY_RATE_LIMIT_KEY_PREFIX": f"bench:{run_id}:t"},
              f"http://127.0.0.1:{trivial_gateway_port}/health/live")

        targets = {
            "inventory directly": (f"http://127.0.0.1:{inventory_port}{PATH}", service),
            "through the gateway": (f"{gateway_url}{PATH}", access),
            "through nginx": (f"http://127.0.0.1:{nginx_port}{PATH}", service),
        }
        trivial = {
            "trivial through the gateway": (f"http://127.0.0.1:{trivial_gateway_port}{PATH}",
                                            access),
            "trivial through nginx": (f"http://127.0.0.1:{nginx_trivial_port}{PATH}", access),
        }
        scripts = {id(access): access_script, id(service): service_script}
        for url, tokens in [*targets.values(), *trivial.values()]:  # warm up
            wrk(url, scripts[id(tokens)], 2)
        throughput: dict[str, list[Load]] = {}
        fixed: dict[str, list[Load]] = {}
        for _ in range(rounds):
            for name, (url, tokens) in {**targets, **trivial}.items():
                throughput.setdefault(name, []).append(wrk(url, scripts[id(tokens)], seconds))
            for name, (url, tokens) in targets.items():
                fixed.setdefault(name, []).append(fixed_rate(url, tokens, seconds))
    return report(throughput, fixed, seconds, rounds)


def report(throughput: dict[str, list[Load]], fixed: dict[str, list[Load]], seconds: int,
           rounds: int) -> str:
    def rps(name: str) -> str:
        return " / ".join(f"{load.requests_per_second:,.0f}" for load in throughput[name])

    def ratio(a: str, b: str) -> str:
        return " / ".join(f"{x.requests_per_second / y.requests_per_second:.2f}x"
                          for x, y in zip(throughput[a], throughput[b], strict=True))

    lines = [
        "## Gateway proxy cost (issue 3)",
        "",
        f"`uv run python benchmarks/gateway_proxy.py --write` on this machine (2 cores), "
        f"{time.strftime('%Y-%m-%d')}: {rounds} rounds of {seconds} s each; wrk at "
        f"{CONNECTIONS} connections for throughput, an open-loop sender at a fixed {FIXED_RATE} "
        f"requests/s for latency; load spread over {CALLERS} callers. The gateway "
        "authenticates an access token, spends a Redis moving-window "
        "rate-limit counter and re-signs a service token on every request; nginx (one worker, "
        "upstream keep-alive) only forwards.",
        "",
        "| path | requests/s (per round) | p50 / p99 at 32 connections (ms) |",
        "|---|---|---|",
    ]
    for name, loads in throughput.items():
        latency = ", ".join(f"{load.p50_ms:.1f} / {load.p99_ms:.1f}" for load in loads)
        lines.append(f"| {name} | {rps(name)} | {latency} |")
    lines += [
        "",
        f"Gateway ÷ nginx throughput on the inventory service: "
        f"{ratio('through the gateway', 'through nginx')} (target ≥ 0.7x); on the trivial "
        f"upstream: {ratio('trivial through the gateway', 'trivial through nginx')} "
        "(target ≥ 0.35x).",
        "",
        f"| at {FIXED_RATE} requests/s | p50 (ms) | p99 (ms) | added p50 | added p99 |",
        "|---|---|---|---|---|",
    ]
    direct = fixed["inventory directly"]
    for name, loads in fixed.items():
        for n, load in enumerate(loads):
            added = ("—", "—") if name == "inventory directly" else (
                f"{load.p50_ms - direct[n].p50_ms:+.2f}", f"{load.p99_ms - direct[n].p99_ms:+.2f}")
            lines.append(f"| {name} (round {n + 1}) | {load.p50_ms:.2f} | {load.p99_ms:.2f} | "
                         f"{added[0]} | {added[1]} |")
    lines += ["", "Targets: at most 2 ms added at p50 and 5 ms at p99 through the gateway.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    section = run(args.seconds, args.rounds)
    print(section)
    if args.write:
        write_section("## Gateway proxy cost", section)


if __name__ == "__main__":
    main()
