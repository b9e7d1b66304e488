"""Waking a request that waits for its batch's outcome, wherever the outcome is recorded.

The start request commits the batch as pending and then waits (a bounded time) for the worker
that consumes inventory's answer to move it on. They may be two processes (fleet mode: `python
-m batches api` and `python -m batches worker`) or one (embedded mode and tests):

- a handler that changes a batch calls `announce()` inside its transaction: on PostgreSQL that
  is a `NOTIFY batches_changed, '<batch id> <status> <stock taken 0|1>'`, delivered only if
  the transaction commits; in
  every case an after-commit hook wakes the waiters of this process directly;
- each api process keeps one `LISTEN` connection (reconnecting when it drops) that wakes its
  waiters by batch id;
- a notification carries the batch's new state, so a woken waiter needs no query; waiters
  re-read their batches only when `poll_seconds` pass without one, so a lost notification (a
  listener reconnecting) only costs latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import make_url

from servicekit.db import Database, UnitOfWork

if TYPE_CHECKING:
    from batches.models import Batch

CHANNEL = "batches_changed"
logger = structlog.get_logger("batches.outcomes")

# The board of each Database, so handlers (which get a unit of work, not the app) find it.
_boards: weakref.WeakKeyDictionary[Database, OutcomeBoard] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class BatchState:
    """What a waiter needs to know of a batch: its status, and whether its stock was taken."""

    status: str
    deducted: bool

    @property
    def start_answered(self) -> bool:
        """Whether inventory has answered the batch's start (a cancel asked for before the
        answer keeps it unknown until the answer comes)."""
        return self.status != "pending" and not (
            self.status == "cancelling" and not self.deducted)

    def payload(self, batch_id: uuid.UUID) -> str:
        return f"{batch_id} {self.status} {int(self.deducted)}"

    @classmethod
    def parse(cls, payload: str) -> tuple[uuid.UUID, BatchState]:
        batch_id, status, deducted = payload.split(" ")
        return uuid.UUID(batch_id), cls(status, deducted == "1")


States = Mapping[uuid.UUID, BatchState]


class _Waiter:
    def __init__(self) -> None:
        self.changed = asyncio.Event()
        self.updates: dict[uuid.UUID, BatchState] = {}


class OutcomeBoard:
    def __init__(self, db: Database, *, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._waiters: dict[uuid.UUID, set[_Waiter]] = {}
        self._listener: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set while the LISTEN connection is up
        _boards[db] = self

    def notify(self, batch_id: uuid.UUID, state: BatchState) -> None:
        for waiter in self._waiters.get(batch_id, ()):
            waiter.updates[batch_id] = state
            waiter.changed.set()

    async def wait(self, batch_ids: Iterable[uuid.UUID], settled: Callable[[States], bool],
                   read: Callable[[], Awaitable[States]], timeout: float,  # noqa: ASYNC109
                   known: States | None = None) -> bool:
        """Until `settled(states)` holds (True) or `timeout` seconds pass (False).

        The states come from `known` (else `read()`) first, then from each change announced
        for `batch_ids`, which carries the new state, so a wake costs no query; `read()`
        again only when `poll_seconds` pass without one."""
        waiter = _Waiter()
        ids = list(batch_ids)
        for batch_id in ids:
            self._waiters.setdefault(batch_id, set()).add(waiter)
        deadline = time.monotonic() + timeout
        try:
            states = dict(known) if known is not None else dict(await read())
            while not settled(states):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    async with asyncio.timeout(min(remaining, self.poll_seconds)):
                        await waiter.changed.wait()
                except TimeoutError:
                    states = dict(await read())
                    continue
                waiter.changed.clear()
                states.update(waiter.updates)
                waiter.updates.clear()
            return True
        finally:
            for batch_id in ids:
                waiting = self._waiters.get(batch_id)
                if waiting is not None:
                    waiting.discard(waiter)
                    if not waiting:
                        del self._waiters[batch_id]

    # -- the PostgreSQL listener ---------------------------------------------------------------

    def start_listening(self) -> None:
        if self.db.is_sqlite or self._listener is not None:
            return
        self._listener = asyncio.create_task(self._listen(), name="batches-outcome-listener")

    async def stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def _listen(self) -> None:
        dsn = make_url(self.db.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        delay = 0.5
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("outcome listener cannot connect; waiters poll meanwhile",
                               error=str(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            delay = 0.5
            try:
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._on_notification)
                self.listening.set()
                await lost.wait()
                logger.warning("outcome listener lost its connection; reconnecting")
            finally:
                self.listening.clear()
                with contextlib.suppress(Exception):
                    await asyncio.shield(connection.close(timeout=2))

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.notify(*BatchState.parse(payload))
        except ValueError:
            logger.warning("ignoring a malformed batch notification", payload=payload)


async def announce(uow: UnitOfWork, batch: Batch) -> None:
    """Tell every waiter of `batch` its new state, once (and only if) `uow` commits."""
    state = BatchState(batch.status, batch.deducted_at is not None)
    if not uow.db.is_sqlite:
        await uow.session.execute(sa.select(sa.func.pg_notify(CHANNEL, state.payload(batch.id))))
    board = _boards.get(uow.db)
    if board is not None:
        batch_id = batch.id
        sa.event.listen(uow.session.sync_session, "after_commit",
                        lambda _session: board.notify(batch_id, state), once=True)
