"""What batches asks inventory synchronously, as the caller (DESIGN.md: queries may be
synchronous HTTP between services): that the items a batch makes exist and can be counted in
the unit given, before `BatchFinished` promises inventory lots of them; and that a finished
base batch's lot is in stock before variants are split from it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, Request

from servicekit import units
from servicekit.dependencies import CallerDep
from servicekit.errors import Conflict, DomainError, ValidationFailed
from servicekit.peers import PeerClient


class UnknownOutput(ValidationFailed):
    code = "UNKNOWN_REFERENCE"
    default_message = "The batch would make an item inventory does not have"


class BaseNotInStock(Conflict):
    default_message = ("Inventory has not received this batch's output yet (or none of it is "
                       "left); try again shortly")


@dataclass(frozen=True, slots=True)
class Output:
    field: str  # where the request named it, e.g. "products.0"
    item_id: uuid.UUID
    quantity: Decimal
    unit: str


async def check_outputs(inventory: PeerClient, outputs: Sequence[Output]) -> None:
    """Refuse (422, naming the field) an output whose item inventory does not have, has
    archived, or cannot count in the output's unit."""
    for output in outputs:
        item = await inventory.get(f"/api/v1/inventory/items/{output.item_id}")
        if item is None or item["archived"]:
            why = "no such item" if item is None else "archived item"
            raise UnknownOutput(f"{why.capitalize()} {output.item_id}", details={
                "fields": {f"{output.field}.item": [why]}, "item_id": str(output.item_id)})
        if output.unit == item["default_unit"]:
            continue
        facts = units.ItemUnits(
            item_id=item["id"], name=item["name"], count_unit=item.get("count_unit"),
            density_g_per_ml=(None if item.get("density_g_per_ml") is None
                              else Decimal(str(item["density_g_per_ml"]))))
        try:
            units.convert(output.quantity, output.unit, item["default_unit"], facts)
        except DomainError as error:
            details = dict(error.details or {})
            details["fields"] = {f"{output.field}.unit": [error.message]}
            raise type(error)(f"{item['name']}: {error.message}", details=details) from None


async def check_base_in_stock(inventory: PeerClient, item_id: uuid.UUID,
                              batch_id: uuid.UUID) -> None:
    """Refuse (409) a split before inventory holds a lot the base batch made."""
    lots = await inventory.get(f"/api/v1/inventory/items/{item_id}/lots")
    found = lots is not None and any(
        lot.get("batch_id") == str(batch_id) and Decimal(str(lot["quantity_remaining"])) > 0
        for lot in lots["lots"])
    if not found:
        raise BaseNotInStock(details={"batch_id": str(batch_id), "item_id": str(item_id)})


def _inventory(request: Request, caller: CallerDep) -> PeerClient:
    return PeerClient(request.app.state.inventory_http, caller, "inventory")


InventoryDep = Annotated[PeerClient, Depends(_inventory)]
