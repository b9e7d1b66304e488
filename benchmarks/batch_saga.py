"""Benchmark: the start-batch saga end to end, in fleet mode.

    uv run python benchmarks/batch_saga.py [--seconds 10] [--rounds 2] [--write]

Needs the local PostgreSQL, RabbitMQ and Redis. Starts the whole fleet (`python -m launcher
fleet`: every service's api and worker and the gateway as separate processes, on its own
databases, broker namespace and ports), signs up CALLERS organizations, gives each an olive
oil, a lye and a tin with stock for far more batches than the run starts, then measures:

1. Sagas per second: closed loop, CONNECTIONS clients each sending `POST /api/v1/batches/start`
   (two ingredients and a container) through the gateway and waiting for the answer; a saga
   counts when the answer is 201 with the batch in progress, so each one is the whole path:
   request -> batch stored with its outbox row -> BatchStarted relayed to RabbitMQ ->
   inventory's worker takes the stock FIFO under row locks -> StockDeducted relayed ->
   batches' worker records the consumption -> NOTIFY -> the api answers.
2. Latency of the start request at a steady FIXED_RATE starts/s (open loop): p50 and p99 of
   the time to that 201.

Each run also reports the CPU it cost per saga (the fleet's processes, its databases' server
processes, RabbitMQ and the load generator, from /proc) and how busy the cores were, ours and
the whole machine's: on a shared machine the difference shows what else ran.

With --write the results replace the batch saga section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import httpx
from docs_section import write_section

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("SMALLBATCH_TEST_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP = os.environ.get("SMALLBATCH_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS = os.environ.get("SMALLBATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START = "/api/v1/batches/start"
CONNECTIONS = (16, 32)  # closed-loop clients, one throughput run each
FIXED_RATE = 20  # starts/s for the latency run
CALLERS = 16  # organizations (one owner each) the load is spread over


@dataclass
class Run:
    name: str
    sent: int
    in_progress: int
    other: dict[int, int]
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ours: float = 0.0  # CPU seconds the fleet, its servers and this load generator used
    cpu_machine: float = 0.0  # CPU seconds the whole machine used meanwhile

    @property
    def sagas_per_second(self) -> float:
        return self.in_progress / self.seconds

    @property
    def cpu_ms_per_saga(self) -> float:
        return 1000 * self.cpu_ours / self.in_progress if self.in_progress else 0.0


class CpuMeter:
    """CPU time from /proc (Linux; zeros elsewhere): used by the fleet's processes, its
    databases' server processes, RabbitMQ and this load generator, and by the whole machine.
    What the machine used beyond ours is other work sharing the cores."""

    def __init__(self, fleet_pid: int, db_prefix: str) -> None:
        self.fleet_pid = fleet_pid
        self.db_prefix = db_prefix
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def read(self) -> tuple[float, float]:
        proc = Path("/proc")
        if not (proc / "stat").exists():
            return 0.0, 0.0
        machine = [int(x) for x in (proc / "stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(machine) - machine[3] - machine[4]) / self.tick  # less idle and iowait
        parents: dict[int, int] = {}
        used: dict[int, float] = {}
        ours: set[int] = {os.getpid(), self.fleet_pid}
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            used[pid] = (int(fields[11]) + int(fields[12])) / self.tick
            if (command.startswith("postgres:") and self.db_prefix in command) or (
                    "beam.smp" in command and "rabbit" in command):
                ours.add(pid)
        for pid in used:  # the fleet's descendants
            ancestor = parents.get(pid)
            while ancestor is not None and ancestor not in ours and ancestor > 1:
                ancestor = parents.get(ancestor)
            if ancestor == self.fleet_pid:
                ours.add(pid)
        return sum(used.get(pid, 0.0) for pid in ours), busy


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000 if ordered else 0


class Caller:
    def __init__(self, token: str, oil: str, lye: str, tin: str) -> None:
        self.headers = {"Authorization": f"Bearer {token}", "Prefer": "wait=9"}
        self.body = {"plan_snapshot": {
            "recipe_id": str(uuid.uuid4()), "recipe_version": 1, "recipe_name": "Bench soap",
            "projected_yield": 10, "projected_yield_unit": "bars",
            "ingredients_plan": [
                {"inventory_item_id": oil, "quantity": 700, "unit": "g"},
                {"inventory_item_id": lye, "quantity": 100, "unit": "g"}],
            "containers": [{"id": tin, "quantity": 1}]}}


async def sign_up(base_url: str, run_id: str) -> list[Caller]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def item(headers: dict[str, str], name: str, kind: str, unit: str,
                       lots: int) -> str:
            created = (await client.post("/api/v1/inventory/items", headers=headers, json={
                "name": name, "type": kind, "default_unit": unit})).raise_for_status().json()
            for n in range(lots):  # several lots, so FIFO crosses lot boundaries
                (await client.post("/api/v1/inventory/adjustments", headers=headers, json={
                    "adjustments": [{"item_id": created["id"], "adjustment_type": "restock",
                                     "quantity": 100_000_000, "cost_per_unit": f"0.0{n + 1}"}],
                })).raise_for_status()
            return str(created["id"])

        async def one(n: int) -> Caller:
            registered = (await client.post("/api/v1/auth/register", json={
                "organization_name": f"Bench Soaps {n}", "first_name": "B", "last_name": "M",
                "email": f"saga-{run_id}-{n}@example.com", "password": "benchmark password",
            })).raise_for_status().json()
            headers = {"Authorization": f"Bearer {registered['access_token']}"}
            return Caller(registered["access_token"],
                          await item(headers, "Olive oil", "ingredient", "g", 3),
                          await item(headers, "Lye", "ingredient", "g", 2),
                          await item(headers, "Tin", "container", "count", 1))

        return list(await asyncio.gather(*(one(n) for n in range(CALLERS))))


async def closed_loop(base_url: str, callers: list[Caller], connections: int,
                      seconds: float, meter: CpuMeter | None = None) -> Run:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def client(n: int) -> None:
            caller = callers[n % len(callers)]
            while time.monotonic() < deadline:
                began = time.perf_counter()
                async with session.post(START, json=caller.body, headers=caller.headers) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status == 201:
                    latencies.append(time.perf_counter() - began)

        cpu = meter.read() if meter else (0.0, 0.0)
        began = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(connections)))
        elapsed = time.monotonic() - began
    return _run(f"{connections} connections, closed loop", statuses, latencies, elapsed, cpu,
                meter)


async def fixed_rate(base_url: str, callers: list[Caller], seconds: float,
                     meter: CpuMeter | None = None) -> Run:
    """Open loop: a start every 1/FIXED_RATE s whatever the answers do, so queueing shows in
    the latency instead of slowing the sender."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def one(caller: Caller) -> None:
            began = time.perf_counter()
            async with session.post(START, json=caller.body, headers=caller.headers) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status == 201:
                latencies.append(time.perf_counter() - began)

        tasks = []
        cpu = meter.read() if meter else (0.0, 0.0)
        began = time.perf_counter()
        for n in range(int(seconds * FIXED_RATE)):
            delay = began + n / FIXED_RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(callers[n % len(callers)])))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return _run(f"{FIXED_RATE} starts/s, open loop", statuses, latencies, elapsed, cpu,
                meter)


def _run(name: str, statuses: dict[int, int], latencies: list[float], elapsed: float,
         cpu: tuple[float, float], meter: CpuMeter | None) -> Run:
    ours, machine = meter.read() if meter else (0.0, 0.0)
    return Run(name, sum(statuses.values()), statuses.get(201, 0),
               {code: n for code, n in statuses.items() if code != 201}, elapsed,
               _percentile(latencies, 0.5), _percentile(latencies, 0.99),
               ours - cpu[0], machine - cpu[1])


def fleet_warnings(log: Path) -> Counter[str]:
    """The fleet's warnings and errors during the run, counted by service and message: what
    lies behind answers other than 201."""
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
            found[f"{entry.get('service', '?')}: {entry.get('event', '?')}"] += 1
    return found


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the fleet exited with {process.returncode} while starting")
        try:
            response = httpx.get(f"{base_url}/health", timeout=2)
            if response.status_code == 200 and response.json()["status"] == "pass":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the fleet did not become healthy in {timeout}s")


async def drop_databases(prefix: str) -> None:
    conn = await asyncpg.connect(POSTGRES)
    try:
        for row in await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1",
                                    f"{prefix}%"):
            await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await conn.close()


async def measure(base_url: str, run_id: str, seconds: float, rounds: int,
                  meter: CpuMeter) -> list[Run]:
    callers = await sign_up(base_url, run_id)
    await closed_loop(base_url, callers, 8, 3)  # warm up: connections, caches, JIT of plans
    runs = []
    for _ in range(rounds):
        for connections in CONNECTIONS:
            runs.append(await closed_loop(base_url, callers, connections, seconds, meter))
        runs.append(await fixed_rate(base_url, callers, seconds, meter))
    return runs


def run(seconds: float, rounds: int) -> tuple[list[Run], Counter[str]]:
    run_id = uuid.uuid4().hex[:8]
    port = random.randrange(20000, 40000, 200)
    prefix, namespace = f"bench_{run_id}_", f"bench{run_id}."
    with tempfile.TemporaryDirectory() as var_dir:
        env = {**os.environ, "SMALLBATCH_VAR_DIR": var_dir, "SMALLBATCH_PORT": str(port),
               "SMALLBATCH_DB_PREFIX": prefix, "SMALLBATCH_BROKER_NAMESPACE": namespace,
               "SMALLBATCH_POSTGRES_URL": POSTGRES.rsplit("/", 1)[0],
               "SMALLBATCH_AMQP_URL": AMQP, "SMALLBATCH_REDIS_URL": REDIS,
               "GATEWAY_RATE_LIMIT_SCALE": "1000",
               "GATEWAY_RATE_LIMIT_KEY_PREFIX": f"bench:{run_id}",
               **{f"{p}_LOG_LEVEL": "WARNING" for p in (
                   "GATEWAY", "INVENTORY", "RECIPES", "BATCHES", "FORECASTING", "INTEGRATIONS",
                   "SMALLBATCH")}}
        log = Path(var_dir) / "fleet.log"
        with log.open("wb") as out:
            fleet = subprocess.Popen([sys.executable, "-m", "launcher", "fleet"], env=env,
                                     cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base_url, fleet)
            runs = asyncio.run(measure(base_url, run_id, seconds, rounds,
                                       CpuMeter(fleet.pid, prefix)))
            return runs, fleet_warnings(log)
        except BaseException:
            sys.stderr.write(log.read_text()[-3000:])
            raise
        finally:
            fleet.send_signal(signal.SIGTERM)
            try:
                fleet.wait(30)
            except subprocess.TimeoutExpired:
                fleet.kill()
            asyncio.run(drop_databases(prefix))
            asyncio.run(_delete_namespace(namespace))


async def _delete_namespace(namespace: str) -> None:
    from servicekit.testing.broker import delete_namespace

    await delete_namespace(AMQP, namespace)


def report(runs: list[Run], warnings: Counter[str], seconds: float, rounds: int,
           load_before: float) -> str:
    lines = [
        "## Batch saga, end to end (issue 6)",
        "",
        f"`uv run python benchmarks/batch_saga.py --write` on this machine "
        f"({os.cpu_count()} cores), {time.strftime('%Y-%m-%d')}: fleet mode (every service's "
        "api and worker and the gateway as separate processes, PostgreSQL, RabbitMQ, Redis, "
        f"all on this machine), {rounds} rounds of {seconds:g} s per load; {CALLERS} "
        "organizations. Each start takes two ingredients and a container FIFO; a saga counts "
        "when `POST /api/v1/batches/start` answers 201 with the batch in progress (request -> "
        "outbox -> RabbitMQ -> inventory's worker -> RabbitMQ -> batches' worker -> NOTIFY -> "
        "answer).",
        "",
        f"Load average before the fleet started: {load_before:.2f} (1 min). CPU: what the "
        "fleet's processes, its databases' server processes, RabbitMQ and the load generator "
        "used, per saga and in cores busy on average, beside the whole machine's use (the "
        "difference is other work sharing the cores).",
        "",
        "| load | starts sent | 201 in progress | other answers | sagas/s | p50 (ms) | "
        "p99 (ms) | CPU per saga (ms) | cores busy: ours / machine |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        other = ", ".join(f"{n} x {code}" for code, n in sorted(r.other.items())) or "—"
        lines.append(f"| {r.name} | {r.sent} | {r.in_progress} | {other} | "
                     f"{r.sagas_per_second:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
                     f"{r.cpu_ms_per_saga:.1f} | {r.cpu_ours / r.seconds:.2f} / "
                     f"{r.cpu_machine / r.seconds:.2f} |")
    lines.append("")
    if warnings:
        lines += ["Warnings and errors the fleet logged meanwhile: " + "; ".join(
            f"{n} x {what}" for what, n in warnings.most_common(5)) + ".", ""]
    lines += ["Targets: at least 100 sagas/s sustained; p99 under 250 ms at "
              f"{FIXED_RATE} starts/s.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    runs, warnings = run(args.seconds, args.rounds)
    section = report(runs, warnings, args.seconds, args.rounds, load_before)
    print(section)
    if args.write:
        write_section("## Batch saga, end to end", section)


if __name__ == "__main__":
    main()

