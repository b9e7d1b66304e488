from inventory.app import MIGRATIONS_DIR, create_app
from inventory.settings import InventorySettings
from servicekit.testing.service import service_fixtures

database_url, app, client = service_fixtures("inventory", create_app, InventorySettings,
                                              MIGRATIONS_DIR)
