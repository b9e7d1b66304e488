from batches.app import MIGRATIONS_DIR, create_app
from batches.settings import BatchesSettings
from servicekit.testing.service import service_fixtures

database_url, app, client = service_fixtures("batches", create_app, BatchesSettings, MIGRATIONS_DIR)
