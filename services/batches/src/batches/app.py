from pathlib import Path

from fastapi import FastAPI

from batches import api
from batches.handlers import handlers
from batches.outcomes import OutcomeBoard
from batches.settings import BatchesSettings
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: BatchesSettings, *, role: Role = "all",
               transport: Transport | None = None) -> FastAPI:
    # Requests wait for their batch's outcome on the board; the worker that records it may be
    # another process, so an api process listens for its notifications.
    listens = role in ("api", "all")
    app = create_service_app(
        settings, title="Smallbatch Batches", routers=[api.router], handlers=handlers,
        role=role, transport=transport,
        on_start=[_listen] if listens else (), on_stop=[_stop_listening] if listens else (),
        description=(
            "Batches: the start-batch saga (stock taken from inventory lot by lot, FIFO), "
            "finishing at the actual cost, cancelling back to the exact lots, variants, "
            "consumption, outputs, containers and codes."
        ),
    )
    app.state.outcomes = OutcomeBoard(app.state.db, poll_seconds=settings.outcome_poll_seconds)
    return app


async def _listen(app: FastAPI) -> None:
    app.state.outcomes.start_listening()


async def _stop_listening(app: FastAPI) -> None:
    await app.state.outcomes.stop_listening()
