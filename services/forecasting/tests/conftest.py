from forecasting.app import MIGRATIONS_DIR, create_app
from forecasting.settings import ForecastingSettings
from servicekit.testing.service import service_fixtures

database_url, app, client = service_fixtures(
    "forecasting", create_app, ForecastingSettings, MIGRATIONS_DIR
)
