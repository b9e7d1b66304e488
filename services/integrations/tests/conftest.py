from integrations.app import MIGRATIONS_DIR, create_app
from integrations.settings import IntegrationsSettings
from servicekit.testing.service import service_fixtures

database_url, app, client = service_fixtures(
    "integrations", create_app, IntegrationsSettings, MIGRATIONS_DIR
)
