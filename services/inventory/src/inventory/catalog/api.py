"""Catalog routes: items (with variants and stock by location), categories, suppliers and
locations. Every one acts in the caller's organization only."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from inventory.catalog import references, service
from inventory.catalog.figures import StockedItem
from inventory.catalog.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    ItemCreate,
    ItemRead,
    ItemStockRead,
    ItemType,
    ItemUpdate,
    LocationCreate,
    LocationRead,
    LocationUpdate,
    SupplierCreate,
    SupplierRead,
    SupplierUpdate,
    VariantRead,
)
from inventory.models import Category, Location, Supplier
from servicekit.dependencies import CallerDep, UnitOfWorkDep
from servicekit.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"])

IncludeArchived = Annotated[bool, Query(description="Also list archived items")]


# --- items ---------------------------------------------------------------------------------

@router.post("/items", status_code=status.HTTP_201_CREATED, response_model=ItemRead)
async def create_item(body: ItemCreate, caller: CallerDep, uow: UnitOfWorkDep) -> StockedItem:
    return await service.create_item(uow, caller.org_id, body)


@router.get("/items")
async def list_items(
    caller: CallerDep, uow: UnitOfWorkDep, page: PageDep,
    type: Annotated[ItemType | None, Query()] = None,
    category_id: Annotated[uuid.UUID | None, Query()] = None,
    supplier_id: Annotated[uuid.UUID | None, Query()] = None,
    low_stock: Annotated[bool | None, Query(
        description="true: only items at or below their threshold; false: only the others")
    ] = None,
    search: Annotated[str | None, Query(max_length=200,
                                        description="Part of the name or SKU, any case")] = None,
    include_archived: IncludeArchived = False,
) -> Page[ItemRead]:
    filters = service.ItemFilters(type=type, category_id=category_id, supplier_id=supplier_id,
                                  low_stock=low_stock, search=search,
                                  include_archived=include_archived)
    return await service.list_items(uow, caller.org_id, filters, page, ItemRead.model_validate)


@router.get("/items/{item_id}", response_model=ItemRead)
async def get_item(item_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> StockedItem:
    return await service.get_stocked_item(uow, caller.org_id, item_id)


@router.patch("/items/{item_id}", response_model=ItemRead)
async def update_item(item_id: uuid.UUID, body: ItemUpdate, caller: CallerDep,
                      uow: UnitOfWorkDep) -> StockedItem:
    return await service.update_item(uow, caller.org_id, item_id, body)


@router.delete("/items/{item_id}", response_model=ItemRead,
               summary="Archive an item (its lots and history stay)")
async def archive_item(item_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> StockedItem:
    return await service.archive_item(uow, caller.org_id, item_id)


@router.get("/items/{item_id}/variants")
async def list_variants(item_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep,
                        page: PageDep, include_archived: IncludeArchived = False,
                        ) -> Page[VariantRead]:
    return await service.list_variants(uow, caller.org_id, item_id, page, _variant,
                                       include_archived=include_archived)


def _variant(item: StockedItem) -> VariantRead:
    return VariantRead(id=item.id, sku=item.sku, name=item.name, size=item.size,
                       price=item.price, current_stock=item.on_hand,
                       reserved_stock=item.reserved, available=item.available,
                       archived=item.archived)


@router.get("/items/{item_id}/stock", response_model=ItemStockRead)
async def item_stock(item_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> Any:
    return await service.item_stock(uow, caller.org_id, item_id)


# --- categories ----------------------------------------------------------------------------

@router.post("/categories", status_code=status.HTTP_201_CREATED, response_model=CategoryRead)
async def create_category(body: CategoryCreate, caller: CallerDep,
                          uow: UnitOfWorkDep) -> Category:
    return await references.create_category(uow, caller.org_id, body)


@router.get("/categories")
async def list_categories(caller: CallerDep, uow: UnitOfWorkDep,
                          page: PageDep) -> Page[CategoryRead]:
    return await paginate(uow.session, references.ordered_by_name(Category, caller.org_id),
                          page, transform=CategoryRead.model_validate)


@router.get("/categories/{category_id}", response_model=CategoryRead)
async def get_category(category_id: uuid.UUID, caller: CallerDep,
                       uow: UnitOfWorkDep) -> Category:
    return await references.get_category(uow, caller.org_id, category_id)


@router.patch("/categories/{category_id}", response_model=CategoryRead)
async def update_category(category_id: uuid.UUID, body: CategoryUpdate, caller: CallerDep,
                          uow: UnitOfWorkDep) -> Category:
    return await references.update_category(uow, caller.org_id, category_id, body)


@router.delete("/categories/{category_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(category_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> None:
    await references.delete_category(uow, caller.org_id, category_id)


# --- suppliers -----------------------------------------------------------------------------

@router.post("/suppliers", status_code=status.HTTP_201_CREATED, response_model=SupplierRead)
async def create_supplier(body: SupplierCreate, caller: CallerDep,
                          uow: UnitOfWorkDep) -> Supplier:
    return await references.create_supplier(uow, caller.org_id, body)


@router.get("/suppliers")
async def list_suppliers(caller: CallerDep, uow: UnitOfWorkDep,
                         page: PageDep) -> Page[SupplierRead]:
    return await paginate(uow.session, references.ordered_by_name(Supplier, caller.org_id),
                          page, transform=SupplierRead.model_validate)


@router.get("/suppliers/{supplier_id}", response_model=SupplierRead)
async def get_supplier(supplier_id: uuid.UUID, caller: CallerDep,
                       uow: UnitOfWorkDep) -> Supplier:
    return await references.get_supplier(uow, caller.org_id, supplier_id)


@router.patch("/suppliers/{supplier_id}", response_model=SupplierRead)
async def update_supplier(supplier_id: uuid.UUID, body: SupplierUpdate, caller: CallerDep,
                          uow: UnitOfWorkDep) -> Supplier:
    return await references.update_supplier(uow, caller.org_id, supplier_id, body)


@router.delete("/suppliers/{supplier_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_supplier(supplier_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> None:
    await references.delete_supplier(uow, caller.org_id, supplier_id)


# --- locations -----------------------------------------------------------------------------

@router.post("/locations", status_code=status.HTTP_201_CREATED, response_model=LocationRead)
async def create_location(body: LocationCreate, caller: CallerDep,
                          uow: UnitOfWorkDep) -> Location:
    return await references.create_location(uow, caller.org_id, body)


@router.get("/locations")
async def list_locations(caller: CallerDep, uow: UnitOfWorkDep,
                         page: PageDep) -> Page[LocationRead]:
    return await paginate(uow.session, references.ordered_by_name(Location, caller.org_id),
                          page, transform=LocationRead.model_validate)


@router.get("/locations/{location_id}", response_model=LocationRead)
async def get_location(location_id: uuid.UUID, caller: CallerDep,
                       uow: UnitOfWorkDep) -> Location:
    return await references.get_location(uow, caller.org_id, location_id)


@router.patch("/locations/{location_id}", response_model=LocationRead)
async def update_location(location_id: uuid.UUID, body: LocationUpdate, caller: CallerDep,
                          uow: UnitOfWorkDep) -> Location:
    return await references.update_location(uow, caller.org_id, location_id, body)


@router.delete("/locations/{location_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_location(location_id: uuid.UUID, caller: CallerDep, uow: UnitOfWorkDep) -> None:
    await references.delete_location(uow, caller.org_id, location_id)
