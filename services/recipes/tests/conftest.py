from recipes.app import MIGRATIONS_DIR, create_app
from recipes.settings import RecipesSettings
from servicekit.testing.service import service_fixtures

database_url, app, client = service_fixtures("recipes", create_app, RecipesSettings, MIGRATIONS_DIR)
