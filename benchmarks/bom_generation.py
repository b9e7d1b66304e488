"""Benchmark: a bill of materials for 50 recipes whose sub-recipe trees are four levels deep.

    uv run python benchmarks/bom_generation.py [--runs 30] [--warmup 5] [--profile] [--write]

Needs the local PostgreSQL. Builds the recipes service in this process against a throw-away
database (migrated with alembic, dropped at the end), as its tests do: one organization, 150
items announced as inventory's `ItemChanged` events (mixed default units, densities, purchase
packs, categories, suppliers) and 120 recipes created through the API:

- 10 bases (level 4): 8 item lines each;
- 15 level-3, 20 level-2 and 25 level-1 sub-recipes: 6 item lines and 2 sub-recipe lines
  each, on sub-recipes of the level below, shared (each is used by 2.5 to 4 recipes above);
- 50 products: 6 item lines and 2 level-1 sub-recipes.

So each product reaches 4 levels of sub-recipes below it (up to 30 sub-recipe uses, 248 lines
expanded), lines measure in g, kg, lb, oz, ml, l, tsp, tbsp, cup and count, some across mass
and volume through a density, and sub-recipes are measured in other units than their yield.

Then times `POST /api/v1/bom/generate` for all 50 products (half by portions, half by
multiplier) through the in-process ASGI client, the way a request reaches the route: token
check, validation, loading the book, costing, saving the bill, the JSON response. Reports wall
time, the process's CPU time and the garbage collector's share of it (this machine is shared,
so CPU time is the steadier figure), and the SQL statements each generation sends.
`--profile` prints the cProfile of 10 more runs.

With --write the results replace the BOM section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import random
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa
from docs_section import write_section
from fastapi import FastAPI

from recipes.app import MIGRATIONS_DIR, create_app
from recipes.settings import RecipesSettings
from recipes.testing import known_item
from servicekit.identity import TokenSigner, generate_keypair
from servicekit.logging import configure_logging
from servicekit.messaging.memory import InMemoryTransport
from servicekit.migrations import upgrade_database
from servicekit.testing.service import in_process_client

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("SMALLBATCH_TEST_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:5432/postgres")
SECTION = "## Bill of materials generation (issue 5)"
PRODUCTS = 50
LEVELS = (25, 20, 15, 10)  # sub-recipes at levels 1 (used by products) to 4 (bases)
ITEMS = 150
TARGET_MS = 100.0

# (default unit, density, units recipes measure it in, purchase unit, pack size)
ITEM_KINDS: list[tuple[str, str | None, tuple[str, ...], str | None, str]] = [
    ("g", None, ("g", "kg"), "lb", "25"),
    ("g", None, ("g", "oz"), "kg", "2"),
    ("g", "0.91", ("g", "ml", "cup"), "l", "1"),  # an oil: weighed or measured
    ("ml", "1.03", ("ml", "l", "g"), "gal", "1"),  # milk
    ("ml", None, ("tsp", "tbsp", "ml"), None, "1"),  # an extract: no pack
    ("count", None, ("count",), "dozen", "2.5"),
]


async def create_database(name: str) -> str:
    conn = await asyncpg.connect(POSTGRES)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def build_book(app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str],
                     org: uuid.UUID) -> list[str]:
    """The items and the 120 recipes; the 50 products' ids."""
    rng = random.Random(5)
    items: list[tuple[str, tuple[str, ...]]] = []
    for n in range(ITEMS):
        unit, density, used_in, purchase_unit, pack = ITEM_KINDS[n % len(ITEM_KINDS)]
        fields: dict[str, Any] = {
            "default_unit": unit, "category_name": f"Category {n % 7}",
            "supplier_name": f"Supplier {n % 5}" if n % 11 else None,
        }
        if density:
            fields["density_g_per_ml"] = density
        if n % 4:
            fields["unit_cost"] = f"{rng.randint(1, 900) / 10000:.4f}"
        if purchase_unit:
            fields |= {"purchase_unit": purchase_unit, "purchase_quantity": pack,
                       "purchase_price": f"{rng.randint(200, 9000) / 100:.2f}"}
        item_id = await known_item(app, org, f"Item {n:03d}", **fields)
        items.append((item_id, used_in))

    async def recipe(name: str, item_lines: int, subs: list[dict[str, Any]],
                     **fields: Any) -> dict[str, Any]:
        lines: list[dict[str, Any]] = []
        for item_id, used_in in rng.sample(items, item_lines):
            lines.append({"item_id": item_id, "unit": rng.choice(used_in),
                          "quantity": str(rng.randint(1, 400) / 4)})
        for sub in subs:
            # Measured in g or ml whatever the sub-recipe yields (its density bridges them).
            lines.append({"sub_recipe_id": sub["id"], "unit": rng.choice(("g", "ml", "kg")),
                          "quantity": str(rng.randint(20, 300))})
        response = await client.post("/api/v1/recipes", headers=headers, json={
            "name": name, "items": lines, **fields})
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    below: list[dict[str, Any]] = []
    for level in range(len(LEVELS), 0, -1):
        made = []
        for n in range(LEVELS[level - 1]):
            yield_fields = {"yield_qty": rng.choice((1, 2, 5)), "yield_unit": rng.choice(
                ("kg", "l")), "yield_density_g_per_ml": "1.1", "batch_type": "ingredient"}
            if below:
                made.append(await recipe(f"Level {level} mix {n:02d}", 6,
                                         rng.sample(below, 2), **yield_fields))
            else:
                made.append(await recipe(f"Base {n:02d}", 8, [], **yield_fields))
        below = made
    products = []
    for n in range(PRODUCTS):
        portions = rng.choice((12, 24, 40))
        product = await recipe(
            f"Product {n:02d}", 6, rng.sample(below, 2), yield_qty=portions,
            yield_unit="pieces", portioning={"is_portioned": True, "portion_name": "pieces",
                                             "portion_count": portions})
        products.append(product["id"])
    return products


class QueryCounter:
    def __init__(self, app: FastAPI) -> None:
        self.count = 0
        sa.event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.count += 1


class GcPauses:
    """Time spent in the cyclic garbage collector, and in full (generation 2) collections."""

    def __init__(self) -> None:
        self.total = self.full = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        spent = time.perf_counter() - self._started
        self.total += spent
        if info["generation"] == 2:
            self.full += spent

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(runs: int, warmup: int, profile: bool) -> dict[str, Any]:
    name = f"bench_{uuid.uuid4().hex[:8]}_recipes"
    url = await create_database(name)
    try:
        await asyncio.to_thread(upgrade_database, MIGRATIONS_DIR, url)
        private_pem, public_pem = generate_keypair()
        # No outbox polling in the background: the statements counted are the request's.
        settings = RecipesSettings(database_url=url, broker_url="memory://",
                                   jwt_public_key=public_pem, log_level="WARNING",
                                   outbox_poll_interval_seconds=3600)
        configure_logging(settings.service_name, settings.log_level, settings.log_json)
        transport = InMemoryTransport()
        await transport.connect()
        app = create_app(settings, transport=transport)
        org = uuid.uuid4()
        token = TokenSigner(private_pem, ttl=timedelta(hours=1)).sign(
            user_id="bench", org_id=org, role="owner")
        headers = {"Authorization": f"Bearer {token}"}
        async with app.router.lifespan_context(app), in_process_client(app) as client:
            products = await build_book(app, client, headers, org)
            body = {"name": "Benchmark", "recipes": [
                {"recipe_id": product, **({"portions": 36} if n % 2 else {"multiplier": 2})}
                for n, product in enumerate(products)]}
            counter = QueryCounter(app)

            async def generate() -> dict[str, Any]:
                response = await client.post("/api/v1/bom/generate", headers=headers,
                                             json=body)
                response.raise_for_status()
                return response.json()  # type: ignore[no-any-return]

            for _ in range(warmup):
                bom = await generate()
            wall, cpu, gc_ms, full_gc_ms, queries = [], [], [], [], []
            load = os.getloadavg()[0]
            pauses = GcPauses()
            for _ in range(runs):
                before, gc_before, full_before = counter.count, pauses.total, pauses.full
                started, started_cpu = time.perf_counter(), time.process_time()
                await generate()
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                gc_ms.append((pauses.total - gc_before) * 1000)
                full_gc_ms.append((pauses.full - full_before) * 1000)
                queries.append(counter.count - before)
            pauses.close()
            load = max(load, os.getloadavg()[0])
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(10):
                    await generate()
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        await transport.close()
    finally:
        await drop_database(name)
    return {
        "runs": runs, "warmup": warmup, "lines": len(bom["items"]),
        "problems": len(bom["problems"]), "load": load, "queries": sorted(set(queries)),
        "wall": {"p50": statistics.median(wall), "p95": percentile(wall, 0.95),
                 "max": max(wall)},
        "cpu": {"p50": statistics.median(cpu), "p95": percentile(cpu, 0.95), "max": max(cpu)},
        "gc": {"p50": statistics.median(gc_ms), "p95": percentile(gc_ms, 0.95),
               "max": max(gc_ms)},
        "full_gc_runs": sum(1 for spent in full_gc_ms if spent),
    }


def report(result: dict[str, Any]) -> str:
    queries = ", ".join(str(q) for q in result["queries"])
    wall, cpu, gc_ms = result["wall"], result["cpu"], result["gc"]
    verdict = "met" if wall["p95"] < TARGET_MS else "missed"
    return "\n".join([
        SECTION,
        "",
        f"`uv run python benchmarks/bom_generation.py --write` on this machine "
        f"({os.cpu_count()} cores, load average {result['load']:.1f} during the runs), "
        f"{time.strftime('%Y-%m-%d')}: `POST /api/v1/bom/generate` for {PRODUCTS} products at "
        "once (half by portions, half by multiplier), through the in-process ASGI client "
        "against PostgreSQL: token check, validation, loading the recipe book, costing "
        "through every sub-recipe, saving the bill, the JSON response. Each product's "
        "sub-recipe tree is four levels deep below it: 120 recipes of about 8 lines, "
        "sub-recipes shared between parents, 150 items in mixed units (some converted "
        f"through a density); the bill has {result['lines']} lines and {result['problems']} "
        f"problems (items without a cost). {result['warmup']} warm-up runs, then "
        f"{result['runs']}.",
        "",
        "| per bill | p50 (ms) | p95 (ms) | max (ms) |",
        "|---|---|---|---|",
        f"| wall time | {wall['p50']:.1f} | {wall['p95']:.1f} | {wall['max']:.1f} |",
        f"| CPU time of the process | {cpu['p50']:.1f} | {cpu['p95']:.1f} | "
        f"{cpu['max']:.1f} |",
        f"| of which garbage collection | {gc_ms['p50']:.1f} | {gc_ms['p95']:.1f} | "
        f"{gc_ms['max']:.1f} |",
        "",
        f"SQL statements per bill: {queries}. Full (generation 2) collections ran during "
        f"{result['full_gc_runs']} of the {result['runs']} runs. Target: under "
        f"{TARGET_MS:.0f} ms ({verdict} at p95).",
        "",
        *READING,
    ])


READING = [
    "### Bill of materials: reading the figures",
    "",
    "- Loading: the recipes of every tree (one recursive query), their lines and their "
    "items, as plain rows: three statements, and the bill's insert.",
    "- Costing: each recipe is worked out once at its own yield, with its own item lines and "
    "its sub-recipes' shares kept apart; a bill pushes the batch sizes down the trees once "
    "(each recipe weighed by the sum of its shares over every path to it) and then counts "
    "each recipe's own lines once, however many products share it.",
    "- `gc.freeze()` after a service starts keeps the start-up objects out of every full "
    "collection; what remains of the garbage collector's share is the bill's own "
    "allocations.",
    "- Wall time beyond CPU time is PostgreSQL and the event loop; on this shared 2-core "
    "machine it grows with the load average, so compare CPU time across runs.",
    "",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of 10 runs")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    result = asyncio.run(measure(args.runs, args.warmup, args.profile))
    section = report(result)
    print(section)
    if args.write:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
