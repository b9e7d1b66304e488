"""Bills of materials: what several recipes need through their shared sub-recipes, one line per
item, in whole purchase packs and priced, against values worked out by hand; the saved bill
listed, fetched, exported (CSV, JSON, PDF) and deleted, in the caller's organization only."""

import csv
import io
import json
import math
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pypdfium2 as pdfium
import pytest
from fastapi import FastAPI

from recipes.testing import create_recipe, known_item

BOM = "/api/v1/bom"


@pytest.fixture
def org() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def headers(mint_token: Callable[..., str], org: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(org_id=org, role='manager')}"}


async def bakery(app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str],
                 org: uuid.UUID) -> dict[str, Any]:
    """Cookies, a tart and a sweet bread, all made with one cookie dough (1 kg: 500 g flour,
    250 g butter, 200 g sugar, 2 tsp vanilla, 5 eggs). Flour and eggs are also used directly,
    flour in kg where the dough has g.

    Costs: flour 0.002/g (25 lb bags at 18.50), butter 0.01/g (1 lb blocks at 4.75), eggs 0.25
    each (trays of 30 at 9), vanilla 0.3/ml (no pack), box 0.4 (no pack); sugar has no stock,
    only its pack price (2 kg at 3.20, so 0.0016/g).
    """
    dry, dairy = {"category_name": "Dry goods", "supplier_name": "Restaurant Depot"}, {
        "category_name": "Dairy", "supplier_name": "US Foods"}
    item = {
        "flour": await known_item(app, org, "All-purpose flour", unit_cost="0.002", **dry,
                                  purchase_unit="lb", purchase_quantity="25",
                                  purchase_price="18.50"),
        "sugar": await known_item(app, org, "Caster sugar", **dry, purchase_unit="kg",
                                  purchase_quantity="2", purchase_price="3.20"),
        "butter": await known_item(app, org, "Butter", unit_cost="0.01", **dairy,
                                   purchase_unit="lb", purchase_quantity="1",
                                   purchase_price="4.75"),
        "eggs": await known_item(app, org, "Eggs", default_unit="count", unit_cost="0.25",
                                 **dairy, purchase_unit="count", purchase_quantity="30",
                                 purchase_price="9"),
        "vanilla": await known_item(app, org, "Vanilla extract", default_unit="ml",
                                    unit_cost="0.3", category_name="Flavourings"),
        "box": await known_item(app, org, "Cookie box", type="packaging",
                                default_unit="count", unit_cost="0.4"),
    }
    dough = await create_recipe(
        client, headers, "Cookie dough", yield_qty=1, yield_unit="kg", batch_type="ingredient",
        items=[{"item_id": item["flour"], "quantity": 500, "unit": "g"},
               {"item_id": item["butter"], "quantity": 250, "unit": "g"},
               {"item_id": item["sugar"], "quantity": 200, "unit": "g"},
               {"item_id": item["vanilla"], "quantity": 2, "unit": "tsp"},
               {"item_id": item["eggs"], "quantity": 5, "unit": "count"}])
    cookies = await create_recipe(
        client, headers, "Chocolate chip cookies", yield_qty=24, yield_unit="cookies",
        portioning={"is_portioned": True, "portion_name": "cookies", "portion_count": 24},
        items=[{"sub_recipe_id": dough["id"], "quantity": 600, "unit": "g"},
               {"item_id": item["sugar"], "quantity": 50, "unit": "g"},
               {"item_id": item["box"], "quantity": 2, "unit": "count"}])
    tart = await create_recipe(
        client, headers, "Sugar tart",
        items=[{"sub_recipe_id": dough["id"], "quantity": 400, "unit": "g"},
               {"item_id": item["butter"], "quantity": 100, "unit": "g"},
               {"item_id": item["vanilla"], "quantity": 1, "unit": "tsp"}])
    bread = await create_recipe(
        client, headers, "Sweet bread", yield_qty=2, yield_unit="loaves",
        items=[{"item_id": item["flour"], "quantity": 1, "unit": "kg"},
               {"item_id": item["eggs"], "quantity": 3, "unit": "count"},
               {"sub_recipe_id": dough["id"], "quantity": "0.5", "unit": "kg"}])
    return {"item": item, "dough": dough, "cookies": cookies, "tart": tart, "bread": bread}


def weekend(book: dict[str, Any]) -> dict[str, Any]:
    """48 cookies (2 batches), 3 tarts, 4 loaves (2 batches): 1.2 + 1.2 + 1 = 3.4 kg of dough."""
    return {"name": "Weekend production", "date": "2026-02-01", "recipes": [
        {"recipe_id": book["cookies"]["id"], "portions": 48},
        {"recipe_id": book["tart"]["id"], "multiplier": 3},
        {"recipe_id": book["bread"]["id"], "portions": 4}]}


async def generate(client: httpx.AsyncClient, headers: dict[str, str],
                   body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"{BOM}/generate", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def by_name(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["ingredient_name"]: line for line in bom["items"]}


def exact(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


async def test_a_bill_adds_up_each_item_once_through_a_shared_sub_recipe(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)

    bom = await generate(client, headers, weekend(book))

    # By category (none last), then name.
    assert [line["ingredient_name"] for line in bom["items"]] == [
        "Butter", "Eggs", "All-purpose flour", "Caster sugar", "Vanilla extract", "Cookie box"]
    quantities = {name: (exact(line["total_qty"]), line["unit"])
                  for name, line in by_name(bom).items()}
    assert quantities == {
        "Butter": (Decimal(1150), "g"),  # 3.4 x 250 g + 3 x 100 g
        "Eggs": (Decimal(23), "count"),  # 3.4 x 5 + 2 x 3
        # 3.4 x 500 g in the dough and 2 x 1 kg directly: mixed units, so the item's own (g)
        "All-purpose flour": (Decimal(3700), "g"),
        "Caster sugar": (Decimal(780), "g"),  # 3.4 x 200 g + 2 x 50 g
        "Vanilla extract": (Decimal("9.8"), "tsp"),  # 3.4 x 2 + 3 x 1: tsp everywhere, kept
        "Cookie box": (Decimal(4), "count"),
    }
    assert by_name(bom)["Cookie box"]["roles"] == ["consumable"]
    assert by_name(bom)["Butter"]["roles"] == ["ingredient"]
    assert by_name(bom)["Butter"]["ingredient_id"] == book["item"]["butter"]
    assert by_name(bom)["Butter"]["category"] == "Dairy"
    assert by_name(bom)["Butter"]["supplier"] == "US Foods"
    assert bom["recipes_included"] == [
        {"id": book["cookies"]["id"], "name": "Chocolate chip cookies", "version": 1,
         "portions": 48, "multiplier": 2},
        {"id": book["tart"]["id"], "name": "Sugar tart", "version": 1, "portions": None,
         "multiplier": 3},
        {"id": book["bread"]["id"], "name": "Sweet bread", "version": 1, "portions": 4,
         "multiplier": 2},
    ]
    assert bom["name"] == "Weekend production" and bom["date"] == "2026-02-01"


async def test_a_bill_buys_whole_purchase_packs_and_prices_every_line(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)

    bom = await generate(client, headers, weekend(book))

    def money(line: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(exact(line[key]) if key not in ("packs", "purchase_unit", "cost_source")
                     else line[key] for key in (
            "purchase_qty", "purchase_unit", "pack_size", "packs", "pack_price",
            "purchase_cost", "unit_cost", "line_cost", "cost_source"))

    lines = by_name(bom)
    # 1150 g is 2.535316015... lb: 3 one-pound blocks
    assert money(lines["Butter"]) == (
        Decimal("2.53531602"), "lb", 1, 3, Decimal("4.75"), Decimal("14.25"),
        Decimal("0.01"), Decimal("11.5"), "fifo")
    assert money(lines["Eggs"]) == (
        Decimal(23), "count", 30, 1, 9, 9, Decimal("0.25"), Decimal("5.75"), "fifo")
    # 3700 g is 8.1571037008... lb: one 25 lb bag
    assert money(lines["All-purpose flour"]) == (
        Decimal("8.1571037"), "lb", 25, 1, Decimal("18.5"), Decimal("18.5"),
        Decimal("0.002"), Decimal("7.4"), "fifo")
    # No stock: costed at its pack price, 3.20 / 2000 g = 0.0016 per g
    assert money(lines["Caster sugar"]) == (
        Decimal("0.78"), "kg", 2, 1, Decimal("3.2"), Decimal("3.2"),
        Decimal("0.0016"), Decimal("1.248"), "purchase_price")
    # 9.8 tsp = 48.30343161875 ml x 0.3 = 14.491029485625; per tsp 0.3 x 4.92892159375
    assert money(lines["Vanilla extract"]) == (
        None, None, None, None, None, None,
        Decimal("1.47867648"), Decimal("14.49102949"), "fifo")
    assert money(lines["Cookie box"]) == (
        None, None, None, None, None, None, Decimal("0.4"), Decimal("1.6"), "fifo")
    # 11.5 + 5.75 + 7.4 + 1.248 + 14.49102949 + 1.6
    assert exact(bom["total_cost"]) == Decimal("41.98902949")
    # 14.25 + 9 + 18.5 + 3.2
    assert exact(bom["total_purchase_cost"]) == Decimal("44.95")
    assert bom["cost_complete"] is True and bom["problems"] == []


async def test_packs_are_rounded_up_but_an_exact_number_of_packs_buys_no_extra_one(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    bag = {"default_unit": "lb", "unit_cost": "0.74", "purchase_unit": "lb",
           "purchase_quantity": "25", "purchase_price": "18.50"}
    rye = await known_item(app, org, "Rye flour", **bag)
    spelt = await known_item(app, org, "Spelt flour", **bag)
    wheat = await known_item(app, org, "Wheat flour", **bag)
    sugar = await known_item(app, org, "Cane sugar", unit_cost="0.0024", purchase_unit="g",
                             purchase_quantity="1000", purchase_price="2.40")
    flours = await create_recipe(client, headers, "Flour blend", items=[
        {"item_id": rye, "quantity": "3.1", "unit": "lb"},
        {"item_id": spelt, "quantity": 60, "unit": "lb"},
        {"item_id": wheat, "quantity": 50, "unit": "lb"}])
    syrup = await create_recipe(
        client, headers, "Syrup", yield_qty=3, yield_unit="jars",
        portioning={"is_portioned": True, "portion_name": "jars", "portion_count": 3},
        items=[{"item_id": sugar, "quantity": 1800, "unit": "g"}])

    bom = await generate(client, headers, {"name": "Packs", "recipes": [
        {"recipe_id": flours["id"], "multiplier": 1},
        # 5/3 of 1800 g: 3000 g, which in exact decimals is 3000.000...001 g
        {"recipe_id": syrup["id"], "portions": 5}]})

    packs = {name: (exact(line["purchase_qty"]), line["packs"], exact(line["purchase_cost"]))
             for name, line in by_name(bom).items()}
    assert packs == {
        "Rye flour": (Decimal("3.1"), 1, Decimal("18.5")),
        "Spelt flour": (Decimal(60), 3, Decimal("55.5")),
        "Wheat flour": (Decimal(50), 2, Decimal(37)),
        "Cane sugar": (Decimal(3000), 3, Decimal("7.2")),
    }
    # 0.74 x 113.1 lb + 0.0024 x 3000 g; 18.5 + 55.5 + 37 + 7.2
    assert exact(bom["total_cost"]) == Decimal("90.894")
    assert exact(bom["total_purchase_cost"]) == Decimal("118.2")


async def test_portions_and_the_same_multiplier_give_the_same_bill(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)
    cookies = book["cookies"]["id"]

    by_portions, by_multiplier = [
        await generate(client, headers, {"name": "Cookies", "recipes": [
            {"recipe_id": cookies, **size}]})
        for size in ({"portions": 36}, {"multiplier": "1.5"})]

    assert by_portions["items"] == by_multiplier["items"]
    # 0.9 kg of dough (450 g flour) and 75 + 180 g sugar
    assert exact(by_name(by_portions)["All-purpose flour"]["total_qty"]) == 450
    assert exact(by_name(by_portions)["Caster sugar"]["total_qty"]) == 255
    assert by_portions["total_cost"] == by_multiplier["total_cost"]
    assert [(r["portions"], r["multiplier"]) for r in (
        by_portions["recipes_included"][0], by_multiplier["recipes_included"][0])] == [
        (36, 1.5), (None, 1.5)]


async def test_items_without_a_cost_or_a_conversion_leave_the_bill_incomplete_with_problems(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    shea = await known_item(app, org, "Shea butter")  # no stock, no pack price
    honey = await known_item(app, org, "Honey", unit_cost="0.02")  # in g, no density
    balm = await create_recipe(client, headers, "Balm", items=[
        {"item_id": shea, "quantity": 100, "unit": "g"},
        {"item_id": honey, "quantity": 100, "unit": "g"}])
    scrub = await create_recipe(client, headers, "Scrub", items=[
        {"item_id": honey, "quantity": 2, "unit": "tbsp"}])

    bom = await generate(client, headers, {"name": "Spa", "recipes": [
        {"recipe_id": balm["id"], "multiplier": 1}, {"recipe_id": scrub["id"], "multiplier": 1}]})

    lines = [(line["ingredient_name"], exact(line["total_qty"]), line["unit"],
              exact(line["line_cost"]), line["cost_source"]) for line in bom["items"]]
    # Grams and tablespoons of honey do not add up without a density: two lines, not a guess.
    assert lines == [
        ("Honey", Decimal(100), "g", Decimal(2), "fifo"),
        ("Honey", Decimal(2), "tbsp", None, None),
        ("Shea butter", Decimal(100), "g", None, None),
    ]
    assert [line["unit_cost"] for line in bom["items"]][1:] == [None, None]
    assert bom["cost_complete"] is False
    assert exact(bom["total_cost"]) == 2
    problems = {(problem["code"], problem["item_id"]) for problem in bom["problems"]}
    assert problems == {("no_cost", shea), ("density_required", honey)}


async def test_an_unknown_recipe_is_refused_and_nothing_is_saved(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)

    response = await client.post(f"{BOM}/generate", headers=headers, json={
        "name": "Oops", "recipes": [{"recipe_id": book["tart"]["id"], "multiplier": 1},
                                    {"recipe_id": str(uuid.uuid4()), "portions": 10}]})

    assert response.status_code == 422
    assert "recipes.1.recipe_id" in response.json()["error"]["details"]["fields"]
    assert (await client.get(BOM, headers=headers)).json()["total"] == 0


async def test_a_recipe_of_another_organization_is_not_found(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    mint_token: Callable[..., str],
) -> None:
    book = await bakery(app, client, headers, org)
    stranger = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4(), role='owner')}"}

    response = await client.post(f"{BOM}/generate", headers=stranger, json={
        "name": "Borrowed", "recipes": [{"recipe_id": book["tart"]["id"], "multiplier": 1}]})

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"] == {
        "recipes.0.recipe_id": ["no such recipe"]}
    assert (await client.get(BOM, headers=stranger)).json()["total"] == 0


async def test_bills_of_another_organization_are_not_found(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    mint_token: Callable[..., str],
) -> None:
    book = await bakery(app, client, headers, org)
    bom = await generate(client, headers, weekend(book))
    stranger = {"Authorization": f"Bearer {mint_token(org_id=uuid.uuid4(), role='owner')}"}

    responses = [await client.get(f"{BOM}/{bom['id']}", headers=stranger),
                 await client.get(f"{BOM}/{bom['id']}/export", headers=stranger),
                 await client.delete(f"{BOM}/{bom['id']}", headers=stranger)]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert responses[0].json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert (await client.get(BOM, headers=stranger)).json()["total"] == 0
    assert (await client.get(f"{BOM}/{bom['id']}", headers=headers)).status_code == 200


async def test_bills_are_listed_newest_first_a_page_at_a_time(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)
    for name in ("Monday", "Tuesday", "Wednesday"):
        await generate(client, headers, {**weekend(book), "name": name})

    first = (await client.get(BOM, headers=headers, params={"per_page": 2})).json()
    second = (await client.get(BOM, headers=headers, params={"per_page": 2, "page": 2})).json()

    assert [bom["name"] for bom in first["items"]] == ["Wednesday", "Tuesday"]
    assert [bom["name"] for bom in second["items"]] == ["Monday"]
    assert (first["total"], first["pages"], first["has_next"], second["has_prev"]) == (
        3, 2, True, True)
    summary = first["items"][0]
    assert (summary["recipes"], summary["lines"], summary["date"], summary["cost_complete"]) == (
        3, 6, "2026-02-01", True)
    assert exact(summary["total_cost"]) == Decimal("41.98902949")
    assert exact(summary["total_purchase_cost"]) == Decimal("44.95")


async def test_a_saved_bill_is_fetched_as_generated_and_gone_once_deleted(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)
    bom = await generate(client, headers, weekend(book))
    fetched = (await client.get(f"{BOM}/{bom['id']}", headers=headers)).json()

    deleted = await client.delete(f"{BOM}/{bom['id']}", headers=headers)

    assert fetched == bom
    assert deleted.status_code == 204
    assert (await client.get(f"{BOM}/{bom['id']}", headers=headers)).status_code == 404
    assert (await client.get(BOM, headers=headers)).json()["total"] == 0


async def test_a_viewer_reads_bills_but_cannot_generate_or_delete_them(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
    mint_token: Callable[..., str],
) -> None:
    book = await bakery(app, client, headers, org)
    bom = await generate(client, headers, weekend(book))
    viewer = {"Authorization": f"Bearer {mint_token(org_id=org, role='viewer')}"}

    reads = [await client.get(BOM, headers=viewer),
             await client.get(f"{BOM}/{bom['id']}", headers=viewer),
             await client.get(f"{BOM}/{bom['id']}/export", headers=viewer,
                              params={"format": "pdf"})]
    writes = [await client.post(f"{BOM}/generate", headers=viewer, json=weekend(book)),
              await client.delete(f"{BOM}/{bom['id']}", headers=viewer)]

    assert [r.status_code for r in reads] == [200, 200, 200]
    assert [r.status_code for r in writes] == [403, 403]
    assert (await client.get(BOM, headers=headers)).json()["total"] == 1


async def test_the_csv_export_opens_in_a_spreadsheet_with_exact_numbers_and_a_total(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)
    bom = await generate(client, headers, weekend(book))

    response = await client.get(f"{BOM}/{bom['id']}/export", headers=headers,
                                params={"format": "csv"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="bom-{bom["id"]}.csv"')
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    text = response.content.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == [
        "Item", "Type", "Category", "Supplier", "Quantity", "Unit", "Purchase quantity",
        "Purchase unit", "Pack size", "Packs", "Pack price", "Purchase cost", "Unit cost",
        "Line cost", "Item id"]
    assert len(rows) == 1 + 6 + 1
    assert rows[3] == [
        "All-purpose flour", "ingredient", "Dry goods", "Restaurant Depot", "3700", "g",
        "8.1571037", "lb", "25", "1", "18.5", "18.5", "0.002", "7.4", book["item"]["flour"]]
    assert rows[5] == [
        "Vanilla extract", "ingredient", "Flavourings", "", "9.8", "tsp", "", "", "", "", "",
        "", "1.47867648", "14.49102949", book["item"]["vanilla"]]
    assert rows[-1] == ["Total", "", "", "", "", "", "", "", "", "", "", "44.95", "",
                        "41.98902949", ""]
    assert sum(Decimal(row[13]) for row in rows[1:-1]) == Decimal(rows[-1][13])


async def test_the_csv_export_keeps_formula_like_text_as_text_and_small_numbers_in_full(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    trap = await known_item(app, org, '=HYPERLINK("http://evil.example","x")',
                            supplier_name="@SUM(1+1)", category_name="+Spices",
                            unit_cost="0.00000005")
    recipe = await create_recipe(client, headers, "Dust", items=[
        {"item_id": trap, "quantity": 2, "unit": "g"}])
    bom = await generate(client, headers, {"name": "Dust", "recipes": [
        {"recipe_id": recipe["id"], "multiplier": 1}]})

    response = await client.get(f"{BOM}/{bom['id']}/export", headers=headers)

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    name, _, category, supplier, quantity, *_, unit_cost, line_cost, _ = rows[1]
    assert (name, category, supplier) == (
        '\'=HYPERLINK("http://evil.example","x")', "'+Spices", "'@SUM(1+1)")
    # 2 g x 0.00000005: 1E-7 as a Decimal, written out in full
    assert (quantity, unit_cost, line_cost) == ("2", "0.00000005", "0.0000001")
    assert rows[-1][13] == "0.0000001"


async def test_the_json_export_is_the_bill_as_fetched(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)
    bom = await generate(client, headers, weekend(book))

    response = await client.get(f"{BOM}/{bom['id']}/export", headers=headers,
                                params={"format": "json"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.content) == (
        await client.get(f"{BOM}/{bom['id']}", headers=headers)).json()


async def test_the_pdf_export_is_an_a4_shopping_list_that_renders(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)
    bom = await generate(client, headers, weekend(book))

    response = await client.get(f"{BOM}/{bom['id']}/export", headers=headers,
                                params={"format": "pdf"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    document = pdfium.PdfDocument(response.content)
    try:
        page = document[0]
        width, height = page.get_size()
        assert math.isclose(height / width, math.sqrt(2), rel_tol=0.01)  # A4
        assert math.isclose(width, 595.28, abs_tol=1)  # 210 mm in points
        bitmap = page.render(scale=1, grayscale=True)
        buffer = bytes(bitmap.buffer)
        dark = sum(sum(1 for value in buffer[row * bitmap.stride:][:bitmap.width]
                       if value < 128) for row in range(bitmap.height))
        assert dark > 2000
        text = page.get_textpage().get_text_range()
    finally:
        document.close()
    assert "Weekend production" in text
    assert "All-purpose flour" in text and "Vanilla extract" in text
    assert "1 x 25 lb" in text  # what to buy
    # To spend: 44.95 in packs + 14.49 vanilla + 1.60 boxes (bought without packs)
    assert "Total" in text and "61.04" in text
    assert "41.99" in text  # what the recipes use


async def test_an_unknown_export_format_is_refused(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str], org: uuid.UUID,
) -> None:
    book = await bakery(app, client, headers, org)
    bom = await generate(client, headers, weekend(book))

    response = await client.get(f"{BOM}/{bom['id']}/export", headers=headers,
                                params={"format": "xlsx"})

    assert response.status_code == 422
    assert "query.format" in response.json()["error"]["details"]["fields"]
