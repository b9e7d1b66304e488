"""The checks every service passes."""

from servicekit.testing.service_checks import *  # noqa: F403
