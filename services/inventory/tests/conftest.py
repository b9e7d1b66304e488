import uuid
from collections.abc import Callable

import pytest

from inventory.app import MIGRATIONS_DIR, create_app
from inventory.settings import InventorySettings
from servicekit.testing.service import service_fixtures

database_url, app, client = service_fixtures("inventory", create_app, InventorySettings,
                                              MIGRATIONS_DIR)


@pytest.fixture
def org() -> uuid.UUID:
    """A fresh organization: tests keep apart by using their own."""
    return uuid.uuid4()


@pytest.fixture
def headers(mint_token: Callable[..., str], org: uuid.UUID) -> dict[str, str]:
    """An owner of `org`."""
    return {"Authorization": f"Bearer {mint_token(org_id=org, role='owner')}"}
