from recipes.app import MIGRATIONS_DIR, create_app
from recipes.settings import RecipesSettings
from servicekit.cli import run_service

if __name__ == "__main__":
    run_service(RecipesSettings(), create_app, MIGRATIONS_DIR)
