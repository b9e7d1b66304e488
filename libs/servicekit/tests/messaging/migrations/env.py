import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from servicekit_test_schema import metadata

from servicekit.migrations import run_env

run_env(metadata)
