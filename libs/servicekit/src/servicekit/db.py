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
    from servicekit.settings import ServiceSettings

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
    """A service's engine and sessions.

    Pooled connections are not pinged at checkout by default: on the hot path that is a round
    trip per unit of work, and a connection the server has dropped is caught anyway. The first
    statement on it fails (that one unit of work fails, and a consumer retries its event), and
    SQLAlchemy then discards every connection opened before, so the next checkouts connect
    afresh. `pool_recycle` replaces connections older than that many seconds (0: never),
    before a firewall or proxy that cuts idle connections can; `pool_pre_ping=True` brings
    back the ping for a network that drops them silently and often.

    The pool keeps up to `pool_size` connections open (20 by default: a worker's 16 deliveries
    in flight and its relay fit) and by default opens none beyond: an overflow connection is
    closed as soon as it is returned, and under load that churn (a server process forked,
    every statement prepared again) costs more than waiting a moment for a pooled one.
    """

    def __init__(self, url: str, *, service: str, echo: bool = False, pool_size: int = 20,
                 max_overflow: int = 0, pool_pre_ping: bool = False,
                 pool_recycle: float = 1800.0) -> None:
        self.url = url
        self.service = service
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow,
                          pool_pre_ping=pool_pre_ping,
                          pool_recycle=pool_recycle if pool_recycle > 0 else -1)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _serialize_sqlite_writers(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # The same pool, its connections in autocommit while checked out for `reading()`.
        self._reading = self.sessionmaker if self.is_sqlite else async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False)
        self._after_outbox_commit: list[Callable[[], None]] = []

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Database:
        """The database `settings` configure: its URL and its connection pool."""
        return cls(settings.database_url, service=settings.service_name,
                   pool_size=settings.database_pool_size,
                   max_overflow=settings.database_max_overflow,
                   pool_pre_ping=settings.database_pool_pre_ping,
                   pool_recycle=settings.database_pool_recycle_seconds)

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

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads outside any unit of work, with no transaction around them: no
        BEGIN and ROLLBACK round trips, but each statement sees a snapshot of its own, so what
        must agree is read in one statement. Never for writes. (On SQLite, a plain session.)"""
        async with self._reading() as session:
            yield session

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
