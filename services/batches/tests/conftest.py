import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI

from batches.app import MIGRATIONS_DIR, create_app
from batches.settings import BatchesSettings
from batches.testing import FakeInventory
from servicekit.testing.service import service_fixtures

database_url, app, client = service_fixtures("batches", create_app, BatchesSettings, MIGRATIONS_DIR)


@pytest.fixture
def org() -> uuid.UUID:
    """A fresh organization: tests keep apart by using their own."""
    return uuid.uuid4()


@pytest.fixture
def headers(mint_token: Callable[..., str], org: uuid.UUID) -> dict[str, str]:
    """An owner of `org`."""
    return {"Authorization": f"Bearer {mint_token(org_id=org, role='owner')}"}


@pytest.fixture
async def inventory(app: FastAPI, org: uuid.UUID) -> FakeInventory:
    """A fake inventory answering `org`'s batch events on the app's in-process transport."""
    return await FakeInventory(app.state.runtime.transport, org_id=org).subscribe()
