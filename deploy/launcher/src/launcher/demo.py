"""The demo organization embedded mode starts with: a soap maker's stock, through the public API.

Seeded once, on the first start of a fresh `var/`: sign in with DEMO_EMAIL / DEMO_PASSWORD.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

DEMO_EMAIL = "demo@smallbatch.example"
DEMO_PASSWORD = "smallbatch-demo"
logger = structlog.get_logger("launcher.demo")


class DemoSeeder:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.headers: dict[str, str] = {}

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(path, json=body, headers=self.headers)
        if response.status_code >= 400:
            raise RuntimeError(f"demo seeding: {path} answered {response.status_code}: "
                               f"{response.text[:500]}")
        return response.json()

    async def seed(self) -> bool:
        """Create the demo organization unless it exists; True when it was created."""
        login = await self.client.post("/api/v1/auth/login",
                                       json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
        if login.status_code == 200:
            return False
        registered = await self.post("/api/v1/auth/register", {
            "organization_name": "Lye & Larch Soap Co.", "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD, "first_name": "Demo", "last_name": "Maker",
        })
        self.headers = {"Authorization": f"Bearer {registered['access_token']}"}
        items = await self.inventory()
        await self.recipes(items)
        return True

    async def inventory(self) -> dict[str, str]:
        categories = {name: (await self.post("/api/v1/inventory/categories",
                                             {"name": name}))["id"]
                      for name in ("Oils and butters", "Lye", "Fragrance", "Molds",
                                   "Packaging", "Soaps")}
        oils = (await self.post("/api/v1/inventory/suppliers", {
            "name": "Northwind Soap Supply", "email": "orders@northwind.example"}))["id"]
        scents = (await self.post("/api/v1/inventory/suppliers", {
            "name": "Hedgerow Essential Oils", "email": "sales@hedgerow.example"}))["id"]

        async def item(**fields: Any) -> str:
            return (await self.post("/api/v1/inventory/items", fields))["id"]

        olive = await item(name="Olive oil", type="ingredient", default_unit="g",
                           category_id=categories["Oils and butters"], supplier_id=oils,
                           density_g_per_ml=0.91, low_stock_threshold=2000,
                           shelf_life_days=540, purchase_unit="gal", purchase_quantity=1,
                           purchase_price=34.99)
        coconut = await item(name="Coconut oil", type="ingredient", default_unit="g",
                             category_id=categories["Oils and butters"], supplier_id=oils,
                             density_g_per_ml=0.92, allergens=["coconut"],
                             low_stock_threshold=1500, shelf_life_days=720,
                             purchase_unit="lb", purchase_quantity=7, purchase_price=24.99)
        shea = await item(name="Shea butter", type="ingredient", default_unit="g",
                          category_id=categories["Oils and butters"], supplier_id=oils,
                          allergens=["tree nuts"], low_stock_threshold=500,
                          purchase_unit="lb", purchase_quantity=2, purchase_price=15.99)
        lye = await item(name="Sodium hydroxide", type="ingredient", default_unit="g",
                         category_id=categories["Lye"], supplier_id=oils,
                         low_stock_threshold=500, purchase_unit="lb", purchase_quantity=2,
                         purchase_price=11.49)
        water = await item(name="Distilled water", type="ingredient", default_unit="ml",
                           density_g_per_ml=1, category_id=categories["Lye"],
                           purchase_unit="gal", purchase_quantity=1, purchase_price=1.29)
        lavender = await item(name="Lavender essential oil", type="ingredient",
                              default_unit="ml", density_g_per_ml=0.885,
                              consumption_order="fefo", category_id=categories["Fragrance"],
                              supplier_id=scents, low_stock_threshold=100,
                              purchase_unit="floz", purchase_quantity=4, purchase_price=19.95)
        mold = await item(name="Loaf mold, 10 bars", type="container", default_unit="count",
                          capacity=10, capacity_unit="count", category_id=categories["Molds"],
                          purchase_unit="count", purchase_quantity=1, purchase_price=24.00)
        box = await item(name="Kraft soap box", type="packaging", default_unit="count",
                         category_id=categories["Packaging"], low_stock_threshold=50,
                         purchase_unit="count", purchase_quantity=50, purchase_price=17.50)
        lavender_bar = await item(name="Lavender soap bar", type="product", default_unit="bars",
                                  count_unit="bars", sku="SOAP-LAV-4OZ", size="4 oz",
                                  price=8.99, category_id=categories["Soaps"],
                                  shelf_life_days=365)
        oatmeal_bar = await item(name="Oatmeal & shea soap bar", type="product",
                                 default_unit="bars",
                   count_unit="bars", sku="SOAP-OAT-4OZ", size="4 oz", price=9.49,
                   category_id=categories["Soaps"], shelf_life_days=365)

        now = datetime.now(UTC)
        # Two olive oil lots at different prices, so FIFO costing shows.
        await self.post("/api/v1/inventory/purchase-bills", {
            "supplier_id": oils, "bill_number": "NW-1041",
            "billed_at": (now - timedelta(days=40)).isoformat(),
            "lines": [
                {"item_id": olive, "quantity": 5, "unit": "kg", "unit_cost": 7.20,
                 "lot_number": "OO-2409"},
                {"item_id": coconut, "quantity": 4, "unit": "kg", "unit_cost": 6.10,
                 "lot_number": "CO-2409"},
                {"item_id": lye, "quantity": 2, "unit": "kg", "unit_cost": 5.50,
                 "lot_number": "NAOH-77"},
                {"item_id": shea, "quantity": 1, "unit": "kg", "unit_cost": 11.00,
                 "lot_number": "SB-12"},
            ],
        })
        await self.post("/api/v1/inventory/purchase-bills", {
            "supplier_id": oils, "bill_number": "NW-1102",
            "billed_at": (now - timedelta(days=6)).isoformat(),
            "lines": [{"item_id": olive, "quantity": 5, "unit": "kg", "unit_cost": 7.85,
                       "lot_number": "OO-2411"}],
        })
        await self.post("/api/v1/inventory/purchase-bills", {
            "supplier_id": scents, "bill_number": "HEO-553",
            "billed_at": (now - timedelta(days=20)).isoformat(),
            "lines": [{"item_id": lavender, "quantity": 500, "unit": "ml", "unit_cost": 0.12,
                       "lot_number": "LAV-FR-24",
                       "expires_at": (now + timedelta(days=300)).isoformat()}],
        })
        await self.post("/api/v1/inventory/adjustments", {"notes": "Opening stock", "adjustments": [
            {"item_id": water, "adjustment_type": "restock", "quantity": 4, "unit": "l",
             "cost_per_unit": 0.0004, "reason": "Opening stock"},
            {"item_id": mold, "adjustment_type": "restock", "quantity": 4,
             "cost_per_unit": 24.00, "reason": "Opening stock"},
            {"item_id": box, "adjustment_type": "restock", "quantity": 200,
             "cost_per_unit": 0.35, "reason": "Opening stock"},
            {"item_id": lavender_bar, "adjustment_type": "restock", "quantity": 36,
             "cost_per_unit": 2.15, "lot_number": "LAV-20261101-01",
             "reason": "Opening stock from the last batch"},
        ]})
        return {"olive": olive, "coconut": coconut, "shea": shea, "lye": lye, "water": water,
                "lavender": lavender, "mold": mold, "box": box, "lavender_bar": lavender_bar,
                "oatmeal_bar": oatmeal_bar}

    async def recipes(self, item: dict[str, str]) -> None:
        """Two soaps sharing one lye solution, each filling a loaf mold of ten bars."""
        categories = {name: (await self.post("/api/v1/recipe-categories", {"name": name}))["id"]
                      for name in ("Cold process soaps", "Bases and solutions")}
        lye_solution = await self.post("/api/v1/recipes", {
            "name": "Lye solution", "category_id": categories["Bases and solutions"],
            "batch_type": "ingredient", "yield_qty": 480, "yield_unit": "g",
            "yield_density_g_per_ml": 1.33, "prep_time_min": 10,
            "instructions": "Add the lye to the water, never the reverse. Cool to 40 °C.",
            "items": [{"item_id": item["lye"], "quantity": 140, "unit": "g"},
                      {"item_id": item["water"], "quantity": 340, "unit": "ml"}],
        })
        soaps = (
            ("Lavender soap", item["lavender_bar"], 8.99,
             [(item["olive"], 600), (item["coconut"], 250), (item["shea"], 150)],
             [{"item_id": item["lavender"], "quantity": 30, "unit": "ml"}]),
            ("Oatmeal & shea soap", item["oatmeal_bar"], 9.49,
             [(item["olive"], 500), (item["coconut"], 250), (item["shea"], 250)], []),
        )
        for name, output, price, oils, extras in soaps:
            await self.post("/api/v1/recipes", {
                "name": name, "category_id": categories["Cold process soaps"],
                "output_item_id": output, "yield_qty": 10, "yield_unit": "bars",
                "portioning": {"is_portioned": True, "portion_name": "bars", "portion_count": 10},
                "prep_time_min": 45, "cook_time_min": 0, "selling_price": price,
                "target_cost_pct": 30,
                "instructions": "Blend oils at 40 °C, add lye solution, stick-blend to trace, "
                                "pour, cure four weeks.",
                "items": [*({"item_id": oil, "quantity": grams, "unit": "g"}
                            for oil, grams in oils),
                          {"sub_recipe_id": lye_solution["id"], "quantity": 480, "unit": "g"},
                          *extras,
                          {"item_id": item["box"], "quantity": 10, "unit": "count"}],
                "containers": [{"item_id": item["mold"], "quantity": 1}],
            })
