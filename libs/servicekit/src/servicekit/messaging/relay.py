"""The outbox relay: publishes committed outbox rows and marks them sent.

Rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so an api process and a worker (or
several replicas) can relay the same outbox without publishing a row twice in the normal case.
A relay that dies after publishing but before its commit leaves the row unsent; it is published
again later, and the consumers' inbox absorbs the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog

from servicekit.db import Database, utcnow
from servicekit.messaging.tables import outbox
from servicekit.messaging.transport import PublishFailed, Transport
from servicekit.metrics import ServiceMetrics

logger = structlog.get_logger("servicekit.relay")


class OutboxRelay:
    def __init__(self, db: Database, transport: Transport, *, batch_size: int = 100,
                 poll_interval: float = 1.0, max_backoff: float = 30.0,
                 metrics: ServiceMetrics | None = None) -> None:
        self.db = db
        self.transport = transport
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.metrics = metrics
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._backlog_read_at = -math.inf
        # Built once: claims a batch and marks it sent in one statement (see publish_pending).
        unsent = (sa.select(outbox.c.id).where(outbox.c.sent_at.is_(None))
                  .order_by(outbox.c.id).limit(batch_size))
        if not db.is_sqlite:
            unsent = unsent.with_for_update(skip_locked=True)
        self._claim = (
            sa.update(outbox).where(outbox.c.id.in_(unsent.scalar_subquery()))
            .values(sent_at=sa.bindparam("now"))
            .returning(outbox.c.id, outbox.c.event_id, outbox.c.routing_key, outbox.c.body)
        )
        db.on_outbox_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.db.service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        backoff = 0.0
        while True:
            try:
                published = await self.publish_pending()
                backoff = 0.0
                if published == self.batch_size:
                    continue  # more may be waiting
            except PublishFailed as exc:
                backoff = min(max(backoff * 2, 0.5), self.max_backoff)
                logger.warning("outbox publish failed; backing off", error=str(exc),
                               retry_in=backoff)
                await asyncio.sleep(backoff)
                continue
            except Exception:
                backoff = min(max(backoff * 2, 0.5), self.max_backoff)
                logger.exception("outbox relay error; backing off", retry_in=backoff)
                await asyncio.sleep(backoff)
                continue
            await self._refresh_backlog()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
            # cancellation that stop() sends, and the relay then never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows in id order; return how many were published.

        One statement claims the batch (locked, skipping rows another relay holds) and marks
        it sent; the mark commits only after the broker has confirmed, so a relay that dies
        meanwhile leaves the rows unsent. The publishes are written back to back, in id order,
        and their confirms awaited together: one round trip to the broker per batch, not per
        row. Raises PublishFailed when the broker does not confirm one; the rows it did
        confirm stay marked sent, the others are unmarked for a later round.
        """
        self._wake.clear()
        async with self.db.sessionmaker() as session, session.begin():
            rows = sorted((await session.execute(self._claim, {"now": utcnow()})).all(),
                          key=lambda row: row.id)
            if not rows:
                return 0
            outcomes = await asyncio.gather(
                *(self.transport.publish(row.routing_key, row.body, message_id=row.event_id)
                  for row in rows),
                return_exceptions=True)
            for outcome in outcomes:
                # Anything but a refused publish (a crash, a cancellation) rolls the whole
                # batch back to unsent: it is all published again, and the inbox absorbs it.
                if isinstance(outcome, BaseException) and not isinstance(outcome, PublishFailed):
                    raise outcome
            failures = [(row, outcome) for row, outcome in zip(rows, outcomes, strict=True)
                        if isinstance(outcome, PublishFailed)]
            for row, failure in failures:
                await session.execute(
                    sa.update(outbox).where(outbox.c.id == row.id).values(
                        sent_at=None, publish_attempts=outbox.c.publish_attempts + 1,
                        last_error=str(failure)[:1000],
                    )
                )
        published = [row for row, outcome in zip(rows, outcomes, strict=True) if outcome is None]
        if self.metrics is not None:
            for row in published:
                self.metrics.events_published.labels(row.routing_key).inc()
        if failures:
            raise failures[0][1]
        return len(published)

    async def _refresh_backlog(self) -> None:
        """Update the backlog gauges, at most once per poll interval: under load the relay
        runs a round per commit, and a query per round would cost as much as the round."""
        if self.metrics is None:
            return
        now = time.monotonic()
        if now - self._backlog_read_at < self.poll_interval:
            return
        self._backlog_read_at = now
        count, oldest = await backlog(self.db)
        self.metrics.outbox_backlog.set(count)
        self.metrics.outbox_oldest_age.set(oldest)


async def backlog(db: Database) -> tuple[int, float]:
    """(unsent rows, age in seconds of the oldest unsent row)."""
    async with db.sessionmaker() as session:
        row = (
            await session.execute(
                sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(
                    outbox.c.sent_at.is_(None)
                )
            )
        ).one()
    count, oldest = row
    if not oldest:
        return int(count), 0.0
    return int(count), max(0.0, (datetime.now(UTC) - oldest).total_seconds())
