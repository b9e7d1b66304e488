from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
    app = create_service_app(
        settings, title="Smallbatch Batches", routers=[api.router], handlers=handlers,
        role=role, transport=transport,
        description=(
            "Batches: the start-batch saga (stock taken from inventory lot by lot, FIFO), "
            "finishing at the actual cost, cancelling back to the exact lots, variants, "
            "consumption, outputs, containers and codes."
        ),
    )
    outcomes = OutcomeBoard(app.state.db, poll_seconds=settings.outcome_poll_seconds)
    app.state.outcomes = outcomes
    if role in ("api", "all"):
        # Requests wait for their batch's outcome here; the worker that records it may be
        # another process, so this process listens for its notifications.
        service_lifespan = app.router.lifespan_context

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with service_lifespan(app):
                outcomes.start_listening()
                try:
                    yield
                finally:
                    await outcomes.stop_listening()

        app.router.lifespan_context = lifespan
    return app
