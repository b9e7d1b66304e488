from integrations.app import MIGRATIONS_DIR, create_app
from integrations.settings import IntegrationsSettings
from servicekit.cli import run_service

if __name__ == "__main__":
    run_service(IntegrationsSettings(), create_app, MIGRATIONS_DIR)
