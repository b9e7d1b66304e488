"""Inbound events. Each handler runs in a unit of work with the inbox; it takes effect once.

The consumer commits after a handler returns (effect and inbox row together), so handlers here
never commit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog
from sqlalchemy.dialects import postgresql, sqlite

from contracts import ItemChanged
from recipes.models import ItemView
from servicekit.db import UnitOfWork
from servicekit.messaging import Envelope, HandlerRegistry

handlers = HandlerRegistry()
logger = structlog.get_logger("recipes.handlers")


@handlers.on(ItemChanged)
async def record_item(uow: UnitOfWork, event: ItemChanged, envelope: Envelope) -> None:
    """Keep the item's row as of the newest event seen.

    Events can arrive out of order (retries, redeliveries), so a row only moves forward: an
    event older than the row's `updated_at` changes nothing. The organization comes from the
    envelope, and an item id already held by another organization is never taken over.
    """
    values = {
        "item_id": event.item_id,
        "org_id": uuid.UUID(envelope.orgid),
        "name": event.name,
        "type": event.type,
        "default_unit": event.default_unit,
        "count_unit": event.count_unit,
        "sku": event.sku,
        "density_g_per_ml": event.density_g_per_ml,
        "unit_cost": event.unit_cost,
        "allergens": sorted({a.strip().lower() for a in event.allergens if a.strip()}),
        "nutrition_per_100g": ({k: str(v) for k, v in event.nutrition_per_100g.items()}
                               if event.nutrition_per_100g else None),
        "category_name": event.category_name,
        "supplier_name": event.supplier_name,
        "purchase_unit": event.purchase_unit,
        "purchase_quantity": event.purchase_quantity,
        "purchase_price": event.purchase_price,
        "shelf_life_days": event.shelf_life_days,
        "archived": event.archived,
        "updated_at": _as_utc(envelope.time),
    }
    insert = (sqlite.insert if uow.db.is_sqlite else postgresql.insert)(ItemView).values(values)
    upsert = insert.on_conflict_do_update(
        index_elements=[ItemView.item_id],
        set_={name: insert.excluded[name] for name in values if name not in ("item_id", "org_id")},
        where=(ItemView.org_id == insert.excluded.org_id)
        & (ItemView.updated_at <= insert.excluded.updated_at),
    )
    result = await uow.session.execute(upsert)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        logger.info("ItemChanged ignored: older than the item's row, or another org's item",
                    item_id=str(event.item_id), event_id=envelope.id, org_id=envelope.orgid)


def _as_utc(moment: datetime) -> datetime:
    # CloudEvents times carry an offset; one that does not is taken as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
