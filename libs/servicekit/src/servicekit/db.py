"""Async database access: one engine per service, and the unit of work that owns a transaction.

The unit of work is the only place that commits. Events a use case publishes are written to the
outbox in the same transaction as its state change; after the commit, the outbox relay is woken
so they leave promptly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from servicekit.context import current_request_id

if TYPE_CHECKING:
    from contracts import Event

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> sa.MetaData:
    """A MetaData with the fleet's constraint naming convention (stable migration names)."""
    return sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EventContext:
    """Where the events a unit of work publishes come from."""

    org_id: uuid.UUID | str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None


class Database:
    def __init__(self, url: str, *, service: str, echo: bool = False,
                 pool_size: int = 10) -> None:
        self.url = url
        self.service = service
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _serialize_sqlite_writers(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._after_outbox_commit: list[Callable[[], None]] = []

    def on_outbox_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every commit that wrote outbox rows (wakes the relay)."""
        self._after_outbox_commit.append(callback)

    def outbox_committed(self) -> None:
        for callback in self._after_outbox_commit:
            callback()

    @asynccontextmanager
    async def unit_of_work(self, context: EventContext | None = None) -> AsyncIterator[UnitOfWork]:
        async with self.sessionmaker() as session:
            uow = UnitOfWork(self, session, context or EventContext())
            try:
                yield uow
            finally:
                if session.in_transaction():
                    await session.rollback()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnitOfWork:
    """One transaction: a session, plus the events to publish when (and only if) it commits."""

    def __init__(self, db: Database, session: AsyncSession, context: EventContext) -> None:
        self.db = db
        self.session = session
        self.context = context
        self._pending: list[dict[str, Any]] = []

    def publish(self, event: Event, *, org_id: uuid.UUID | str | None = None,
                subject: str | None = None) -> str:
        """Queue `event` for the outbox; it is written with this unit of work's commit."""
        from servicekit.messaging.envelope import Envelope

        org = org_id if org_id is not None else self.context.org_id
        if org is None:
            raise ValueError("an event needs the organization it belongs to")
        envelope = Envelope(
            source=f"/smallbatch/{self.db.service}",
            type=event.routing_key(),
            subject=subject,
            data=event.model_dump(mode="json"),
            orgid=str(org),
            correlationid=self.context.correlation_id or current_request_id(),
            causationid=self.context.causation_id,
        )
        self._pending.append(
            {
                "event_id": envelope.id,
                "org_id": envelope.orgid,
                "routing_key": envelope.type,
                "body": envelope.to_bytes(),
                "created_at": utcnow(),
            }
        )
        return envelope.id

    async def commit(self) -> None:
        from servicekit.messaging.tables import outbox

        wrote_events = bool(self._pending)
        if wrote_events:
            await self.session.execute(sa.insert(outbox), self._pending)
            self._pending = []
        await self.session.commit()
        if wrote_events:
            self.db.outbox_committed()

    async def rollback(self) -> None:
        self._pending = []
        await self.session.rollback()


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """Take SQLite's write lock at BEGIN, so concurrent transactions wait instead of failing
    on a lock upgrade; WAL lets readers proceed meanwhile."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def unique_violated(exc: IntegrityError, table: str, *columns: str) -> bool:
    """Whether `exc` is the unique constraint on `table`'s org and `columns` (one that another
    request won between our look and our write), on PostgreSQL or SQLite."""
    message = str(exc.orig)
    postgres = "_".join(("uq", table, "org_id", *columns))
    sqlite = ", ".join(f"{table}.{c}" for c in ("org_id", *columns))
    return postgres in message or sqlite in message
