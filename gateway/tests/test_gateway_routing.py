import pytest

from gateway.routing import AREAS, Target, resolve

EXPECTED_AREAS = {
    "inventory": "inventory", "units": "inventory",
    "recipes": "recipes", "recipe-categories": "recipes", "recipe-items": "recipes",
    "production": "recipes", "bom": "recipes",
    "batches": "batches", "resources": "batches", "schedules": "batches",
    "sales": "forecasting", "forecasts": "forecasting", "stock": "forecasting",
    "integrations": "integrations", "webhooks": "integrations",
}


def test_the_area_map_is_the_public_api_map():
    assert dict(AREAS) == EXPECTED_AREAS


@pytest.mark.parametrize(("area", "service"), sorted(EXPECTED_AREAS.items()))
def test_each_area_resolves_to_its_service_with_the_path_unchanged(area, service):
    path = f"/api/v1/{area}/some/thing"
    assert resolve(path) == Target(service, path, f"/api/v1/{area}/*")


def test_an_area_root_without_a_trailing_slash_resolves():
    assert resolve("/api/v1/recipes") == Target("recipes", "/api/v1/recipes", "/api/v1/recipes/*")


def test_shopify_webhooks_outside_the_api_go_to_integrations():
    assert resolve("/webhooks/shopify/42") == Target(
        "integrations", "/webhooks/shopify/42", "/webhooks/shopify/*"
    )


def test_outbound_webhook_subscriptions_go_to_integrations():
    assert resolve("/api/v1/webhooks/subscriptions/7/test").service == "integrations"


@pytest.mark.parametrize("path", [
    "/api/v1/nope/items",
    "/api/v1/inventoryx/items",
    "/api/v1/",
    "/api/v2/inventory/items",
    "/api/v1/auth/login",
    "/webhooks/stripe",
    "/webhooks/shopify",
    "/",
    "//api/v1/inventory/items",
])
def test_paths_no_service_owns_resolve_to_nothing(path):
    assert resolve(path) is None


@pytest.mark.parametrize("path", [
    "/api/v1/inventory/../auth/login",
    "/api/v1/inventory/./items",
    "/api/v1/inventory/items/..",
    "/webhooks/shopify/../../api/v1/auth/login",
])
def test_paths_with_dot_segments_are_refused(path):
    assert resolve(path) is None


def test_dots_inside_a_segment_are_ordinary_characters():
    assert resolve("/api/v1/bom/7/export.csv").service == "recipes"
