import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

import contracts
from contracts import (
    EVENT_TYPES,
    BatchCancelled,
    BatchFinished,
    BatchStarted,
    Event,
    ForecastCompleted,
    ItemChanged,
    LowStockDetected,
    OrderCancelled,
    OrderReceived,
    RecipeChanged,
    StockDeducted,
    StockDeductionFailed,
    StockLevelChanged,
    StockRestored,
    event_class,
)
from contracts.inventory import ConsumptionLine

# The fleet table of DESIGN.md: every event a service publishes, with its routing key.
FLEET_EVENTS = {
    "inventory.ItemChanged.v1": ItemChanged,
    "inventory.StockDeducted.v1": StockDeducted,
    "inventory.StockDeductionFailed.v1": StockDeductionFailed,
    "inventory.StockRestored.v1": StockRestored,
    "inventory.StockLevelChanged.v1": StockLevelChanged,
    "inventory.LowStockDetected.v1": LowStockDetected,
    "recipes.RecipeChanged.v1": RecipeChanged,
    "batches.BatchStarted.v1": BatchStarted,
    "batches.BatchFinished.v1": BatchFinished,
    "batches.BatchCancelled.v1": BatchCancelled,
    "forecasting.ForecastCompleted.v1": ForecastCompleted,
    "integrations.OrderReceived.v1": OrderReceived,
    "integrations.OrderCancelled.v1": OrderCancelled,
}


def batch_started(**overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "batch_id": str(uuid.uuid4()),
        "batch_code": "SOAP-2024-001",
        "recipe_id": str(uuid.uuid4()),
        "recipe_version": 3,
        "batch_type": "product",
        "lines": [
            {"item_id": str(uuid.uuid4()), "quantity": "250.5", "unit": "g", "role": "ingredient"},
            {"item_id": str(uuid.uuid4()), "quantity": 4, "unit": "count", "role": "container"},
        ],
    }
    return payload | overrides


def published_events() -> dict[str, type[Event]]:
    # Tests elsewhere in the run may register events of their own; only the package's count.
    return {k: c for k, c in EVENT_TYPES.items() if c.__module__.startswith("contracts.")}


def test_every_fleet_event_is_registered_under_its_routing_key() -> None:
    assert published_events() == FLEET_EVENTS
    for key, cls in FLEET_EVENTS.items():
        assert cls.routing_key() == key
        assert event_class(key) is cls


def test_the_package_exports_every_registered_event() -> None:
    for cls in published_events().values():
        assert getattr(contracts, cls.__name__) is cls
        assert cls.__name__ in contracts.__all__


def test_an_intermediate_base_without_a_type_is_not_registered() -> None:
    class ShippingEvent(Event):
        source_service = "shipping"

    assert ShippingEvent not in EVENT_TYPES.values()


def test_a_second_class_for_a_taken_routing_key_is_refused() -> None:
    with pytest.raises(TypeError, match=r"batches\.BatchStarted\.v1"):

        class Impostor(Event):
            source_service = "batches"
            event_name = "BatchStarted"
            event_version = 1


def test_event_class_of_an_unknown_routing_key_raises_key_error() -> None:
    with pytest.raises(KeyError, match=r"batches\.BatchExploded\.v1"):
        event_class("batches.BatchExploded.v1")


def test_decimals_survive_a_json_round_trip_exactly() -> None:
    line = ConsumptionLine(
        item_id=uuid.uuid4(),
        lot_id=uuid.uuid4(),
        lot_number="LOT001",
        quantity=Decimal("0.1") + Decimal("0.2"),
        unit="kg",
        unit_cost=Decimal("12.3456"),
        cost=Decimal("3.70368"),
    )
    event = StockDeducted(batch_id=uuid.uuid4(), consumption=(line,), total_cost=Decimal("3.70368"))

    body = event.model_dump_json()
    restored = StockDeducted.model_validate_json(body)

    assert '"quantity":"0.3"' in body
    assert restored == event
    assert restored.consumption[0].quantity == Decimal("0.3")
    assert restored.total_cost == Decimal("3.70368")


def test_quantities_are_accepted_as_numbers_and_as_strings() -> None:
    event = BatchStarted.model_validate(batch_started())

    assert [line.quantity for line in event.lines] == [Decimal("250.5"), Decimal(4)]


def test_unknown_fields_are_ignored_on_validate() -> None:
    payload = batch_started(priority="high")
    payload["lines"][0]["supplier"] = "Acme"  # type: ignore[index]

    event = BatchStarted.model_validate(payload)

    assert "priority" not in event.model_dump()
    assert "supplier" not in event.lines[0].model_dump()


def test_events_are_immutable() -> None:
    event = BatchCancelled(batch_id=uuid.uuid4(), batch_code="SOAP-2024-001")

    with pytest.raises(ValidationError):
        event.reason = "changed my mind"  # type: ignore[misc]


def test_a_negative_quantity_is_rejected() -> None:
    payload = batch_started()
    payload["lines"][0]["quantity"] = "-1"  # type: ignore[index]

    with pytest.raises(ValidationError, match="greater than 0"):
        BatchStarted.model_validate(payload)


def test_a_missing_field_is_rejected() -> None:
    payload = batch_started()
    del payload["recipe_id"]

    with pytest.raises(ValidationError, match="recipe_id"):
        BatchStarted.model_validate(payload)


def test_a_batch_without_lines_is_rejected() -> None:
    with pytest.raises(ValidationError):
        BatchStarted.model_validate(batch_started(lines=[]))


def test_a_non_finite_amount_is_rejected() -> None:
    with pytest.raises(ValidationError):
        StockDeducted.model_validate(
            {"batch_id": str(uuid.uuid4()), "consumption": [], "total_cost": "NaN"}
        )


def test_a_naive_timestamp_is_rejected() -> None:
    payload = {
        "forecast_id": str(uuid.uuid4()),
        "item_ids": [str(uuid.uuid4())],
        "horizon_days": 30,
        "method": "auto_ets",
        "completed_at": "2024-06-01T12:00:00",  # no offset
    }

    with pytest.raises(ValidationError, match="timezone"):
        ForecastCompleted.model_validate(payload)


def test_a_routed_payload_validates_through_its_registered_class() -> None:
    data = OrderReceived(
        order_id=uuid.uuid4(),
        channel_id=uuid.uuid4(),
        channel_type="shopify",
        external_order_id="#1001",
        placed_at=datetime(2024, 6, 1, 12, tzinfo=UTC),
        lines=[{"sku": "SOAP-LAV", "quantity": 2, "unit_price": "8.50"}],
    ).model_dump(mode="json")

    event = event_class("integrations.OrderReceived.v1").model_validate(data)

    assert isinstance(event, OrderReceived)
    assert event.lines[0].unit_price == Decimal("8.50")
