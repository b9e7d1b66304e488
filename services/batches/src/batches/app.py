from pathlib import Path

import httpx
from fastapi import FastAPI

from batches import api
from batches.handlers import handlers
from batches.outcomes import OutcomeBoard
from batches.settings import BatchesSettings
from servicekit.app import Role, create_service_app
from servicekit.messaging import Transport
from servicekit.peers import peer_http

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def create_app(settings: BatchesSettings, *, role: Role = "all",
               transport: Transport | None = None,
               inventory_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """`inventory_transport` reaches inventory some other way than `settings.inventory_url`
    (in-process, in embedded mode)."""
    # Requests wait for their batch's outcome on the board; the worker that records it may be
    # another process, so an api process listens for its notifications.
    listens = role in ("api", "all")
    app = create_service_app(
        settings, title="Smallbatch Batches", routers=[api.router], handlers=handlers,
        role=role, transport=transport,
        on_start=[_listen] if listens else (),
        on_stop=[_stop_listening, _close_inventory_http] if listens else (),
        description=(
            "Batches: the start-batch saga (stock taken from inventory lot by lot, FIFO), "
            "finishing at the actual cost, cancelling back to the exact lots, variants, "
            "consumption, outputs, containers and codes."
        ),
    )
    app.state.outcomes = OutcomeBoard(app.state.db, poll_seconds=settings.outcome_poll_seconds)
    app.state.inventory_http = peer_http(settings.inventory_url,
                                         timeout=settings.inventory_timeout_seconds,
                                         transport=inventory_transport)
    return app


async def _listen(app: FastAPI) -> None:
    app.state.outcomes.start_listening()


async def _stop_listening(app: FastAPI) -> None:
    await app.state.outcomes.stop_listening()


async def _close_inventory_http(app: FastAPI) -> None:
    await app.state.inventory_http.aclose()
