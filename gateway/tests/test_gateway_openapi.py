"""The merged OpenAPI document of the whole public API."""

from gateway.openapi import merge_documents


def schema_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def document(paths: dict, schemas: dict) -> dict:
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": schemas}}


def test_public_paths_of_every_service_are_merged_and_internal_ones_left_out() -> None:
    merged = merge_documents({
        "inventory": document({"/api/v1/inventory/items": {"get": {}}, "/admin/x": {}}, {}),
        "integrations": document({"/webhooks/shopify/{channel_id}": {"post": {}}}, {}),
    }, title="T", version="1")
    assert list(merged["paths"]) == ["/api/v1/inventory/items", "/webhooks/shopify/{channel_id}"]
    assert merged["security"] == [{"bearerAuth": []}]


def test_a_schema_two_services_define_differently_is_renamed_in_one_of_them() -> None:
    shared = {"type": "object", "properties": {"detail": {"type": "string"}}}
    merged = merge_documents({
        "inventory": document({"/api/v1/inventory/items": {"get": schema_ref("ItemRead")}},
                              {"ItemRead": {"title": "inventory's"}, "Error": shared}),
        "recipes": document({"/api/v1/recipe-items": {"get": schema_ref("ItemRead")}},
                            {"ItemRead": {"title": "recipes'"}, "Error": shared}),
    }, title="T", version="1")
    schemas = merged["components"]["schemas"]
    assert schemas["ItemRead"] == {"title": "inventory's"}
    assert schemas["recipes__ItemRead"] == {"title": "recipes'"}
    assert schemas["Error"] == shared
    assert merged["paths"]["/api/v1/recipe-items"]["get"] == schema_ref("recipes__ItemRead")
