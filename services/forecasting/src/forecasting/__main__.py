from forecasting.app import MIGRATIONS_DIR, create_app
from forecasting.settings import ForecastingSettings
from servicekit.cli import run_service

if __name__ == "__main__":
    run_service(ForecastingSettings(), create_app, MIGRATIONS_DIR)
