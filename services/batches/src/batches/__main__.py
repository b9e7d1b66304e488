from batches.app import MIGRATIONS_DIR, create_app
from batches.settings import BatchesSettings
from servicekit.cli import run_service

if __name__ == "__main__":
    run_service(BatchesSettings(), create_app, MIGRATIONS_DIR)
