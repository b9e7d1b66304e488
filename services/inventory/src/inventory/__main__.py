from inventory.app import MIGRATIONS_DIR, create_app
from inventory.settings import InventorySettings
from servicekit.cli import run_service

if __name__ == "__main__":
    run_service(InventorySettings(), create_app, MIGRATIONS_DIR)
