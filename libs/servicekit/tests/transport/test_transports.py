"""What every transport promises (run against RabbitMQ and the in-memory transport), and what
the RabbitMQ transport adds when the broker goes away and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from yarl import URL

from servicekit.messaging.memory import topic_matches
from servicekit.messaging.transport import DeadLetter, Delivery, Disposition, PublishFailed
from servicekit.testing.servers import AMQP_URL
from servicekit.testing.tcpproxy import TCPProxy

ROUTING_KEY = "orders.OrderPlaced.v1"
BODY = b'{"order": 1}'
HEADERS = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}

Eventually = Callable[..., Awaitable[Any]]


class Recorder:
    """A subscriber callback that records each delivery and answers with the scripted
    dispositions in turn (the last one repeats); an exception as an answer is raised."""

    def __init__(self, *answers: Disposition | Exception) -> None:
        self.answers = list(answers) or [Disposition.ack()]
        self.deliveries: list[Delivery] = []
        self.arrival_times: list[float] = []
        self._arrived = asyncio.Condition()

    async def __call__(self, delivery: Delivery) -> Disposition:
        self.deliveries.append(delivery)
        self.arrival_times.append(time.monotonic())
        async with self._arrived:
            self._arrived.notify_all()
        answer = self.answers[min(len(self.deliveries), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def received(self, count: int) -> list[Delivery]:
        """The first `count` deliveries, once they arrived (at most 10 s from now)."""
        async with asyncio.timeout(10.0), self._arrived:
            await self._arrived.wait_for(lambda: len(self.deliveries) >= count)
        return self.deliveries[:count]


async def dead_letters_once_listed(transport: Any, queue: str, eventually: Eventually,
                                   count: int = 1) -> list[DeadLetter]:
    async def listed() -> list[DeadLetter]:
        letters = await transport.dead_letters(queue)
        assert len(letters) == count
        return letters

    return await eventually(listed, timeout=5.0)


# -- both transports -------------------------------------------------------------------------


async def test_a_published_event_reaches_its_subscriber_with_its_id_and_attempt_one(
        open_transport, queue):
    transport = await open_transport()
    consumer = Recorder()
    await transport.subscribe(queue, [ROUTING_KEY], consumer)

    await transport.publish(ROUTING_KEY, BODY, message_id="evt-1", headers=HEADERS)

    assert await consumer.received(1) == [
        Delivery(body=BODY, routing_key=ROUTING_KEY, message_id="evt-1", attempt=1,
                 headers=HEADERS),
    ]


async def test_bindings_route_events_by_topic_wildcards(open_transport, queue):
    transport = await open_transport()
    consumer = Recorder()
    await transport.subscribe(queue, ["orders.*.v1", "audit.#"], consumer)

    keys = ["orders.OrderPlaced.v1", "orders.OrderPlaced.v2", "orders.a.b.v1", "audit",
            "audit.x.y", "billing.audit", "audit.done"]
    for number, key in enumerate(keys):
        await transport.publish(key, BODY, message_id=f"evt-{number}")

    await consumer.received(4)
    await asyncio.sleep(0.1)
    assert [delivery.routing_key for delivery in consumer.deliveries] == [
        "orders.OrderPlaced.v1", "audit", "audit.x.y", "audit.done",
    ]


async def test_an_event_published_before_its_queue_exists_is_not_delivered(
        open_transport, queue):
    transport = await open_transport()
    await transport.publish(ROUTING_KEY, BODY, message_id="early")
    consumer = Recorder()
    await transport.subscribe(queue, [ROUTING_KEY], consumer)

    await transport.publish(ROUTING_KEY, BODY, message_id="late")

    await consumer.received(1)
    await asyncio.sleep(0.1)
    assert [delivery.message_id for delivery in consumer.deliveries] == ["late"]


async def test_retry_delivers_the_event_again_after_the_delay_with_the_next_attempt(
        open_transport, queue):
    transport = await open_transport()
    consumer = Recorder(Disposition.retry(0.2, "database busy"), Disposition.ack())
    await transport.subscribe(queue, [ROUTING_KEY], consumer)

    await transport.publish(ROUTING_KEY, BODY, message_id="evt-1", headers=HEADERS)

    _, second = await consumer.received(2)
    assert second == Delivery(body=BODY, routing_key=ROUTING_KEY, message_id="evt-1",
                              attempt=2, headers=HEADERS)
    assert consumer.arrival_times[1] - consumer.arrival_times[0] >= 0.18


async def test_dead_letter_verdict_moves_the_event_to_the_dead_letter_queue(
        open_transport, queue, eventually):
    transport = await open_transport()
    consumer = Recorder(Disposition.dead_letter("payload rejected"))
    await transport.subscribe(queue, [ROUTING_KEY], consumer)

    await transport.publish(ROUTING_KEY, BODY, message_id="evt-1", headers=HEADERS)

    letters = await dead_letters_once_listed(transport, queue, eventually)
    assert letters == [DeadLetter(id="evt-1", queue=queue, routing_key=ROUTING_KEY, body=BODY,
                                  reason="payload rejected", attempts=1)]
    assert await transport.dead_letters(queue) == letters, "listing must not remove them"


async def test_a_replayed_dead_letter_is_delivered_again_with_attempt_one(
        open_transport, queue, eventually):
    transport = await open_transport()
    consumer = Recorder(Disposition.retry(0.2, "database busy"),
                        Disposition.dead_letter("gave up"), Disposition.ack())
    await transport.subscribe(queue, [ROUTING_KEY], consumer)
    await transport.publish(ROUTING_KEY, BODY, message_id="evt-1", headers=HEADERS)
    [letter] = await dead_letters_once_listed(transport, queue, eventually)
    assert letter.attempts == 2

    assert await transport.replay_dead_letter(queue, letter.id) is True

    replayed = (await consumer.received(3))[2]
    assert replayed == Delivery(body=BODY, routing_key=ROUTING_KEY, message_id="evt-1",
                                attempt=1, headers=HEADERS)
    assert await transport.dead_letters(queue) == []


async def test_replaying_an_unknown_dead_letter_reports_false(open_transport, queue):
    transport = await open_transport()
    await transport.subscribe(queue, [ROUTING_KEY], Recorder())

    assert await transport.replay_dead_letter(queue, "no-such-event") is False


async def test_an_event_whose_callback_keeps_raising_is_dead_lettered_after_the_delivery_limit(
        open_transport, queue, eventually):
    transport = await open_transport(delivery_limit=2)
    consumer = Recorder(RuntimeError("handler bug"))
    await transport.subscribe(queue, [ROUTING_KEY], consumer)

    await transport.publish(ROUTING_KEY, BODY, message_id="evt-1")

    [letter] = await dead_letters_once_listed(transport, queue, eventually)
    assert letter == DeadLetter(id="evt-1", queue=queue, routing_key=ROUTING_KEY, body=BODY,
                                reason="delivery_limit", attempts=3)
    assert [delivery.attempt for delivery in consumer.deliveries] == [1, 2, 3]


async def test_a_queue_that_never_dead_lettered_lists_no_dead_letters(open_transport, queue):
    transport = await open_transport()

    assert await transport.dead_letters(queue) == []


async def test_close_disconnects_and_may_be_called_twice(open_transport):
    transport = await open_transport()
    assert transport.is_connected

    await transport.close()
    await transport.close()

    assert not transport.is_connected


async def test_publishing_on_a_closed_transport_fails(open_transport):
    transport = await open_transport()
    await transport.close()

    with pytest.raises(PublishFailed):
        await transport.publish(ROUTING_KEY, BODY, message_id="evt-1")


# -- RabbitMQ only ---------------------------------------------------------------------------


async def test_rabbitmq_rounds_a_retry_delay_up_to_the_next_retry_queue(open_rabbitmq, queue):
    transport = await open_rabbitmq(retry_delays=(0.2, 0.5))
    consumer = Recorder(Disposition.retry(0.3, "database busy"), Disposition.ack())
    await transport.subscribe(queue, [ROUTING_KEY], consumer)

    await transport.publish(ROUTING_KEY, BODY, message_id="evt-1")

    await consumer.received(2)
    assert consumer.arrival_times[1] - consumer.arrival_times[0] >= 0.45


async def test_publish_fails_within_the_timeout_when_the_broker_is_cut_off(
        broker_proxy: TCPProxy, open_rabbitmq):
    transport = await open_rabbitmq(url=broker_proxy.url_for(AMQP_URL), publish_timeout=1.0)
    await transport.publish(ROUTING_KEY, BODY, message_id="evt-1")
    await broker_proxy.cut()

    started = time.monotonic()
    with pytest.raises(PublishFailed):
        await transport.publish(ROUTING_KEY, BODY, message_id="evt-2")

    assert time.monotonic() - started < 1.5


async def test_closing_while_the_broker_is_cut_off_does_not_wait_for_it(
        broker_proxy: TCPProxy, open_rabbitmq, queue, eventually):
    transport = await open_rabbitmq(url=broker_proxy.url_for(AMQP_URL))
    await transport.subscribe(queue, [ROUTING_KEY], Recorder())
    await broker_proxy.cut()
    await eventually(_is(transport, connected=False), timeout=5.0)

    started = time.monotonic()
    await transport.close()

    assert time.monotonic() - started < 1.0


async def test_a_subscriber_receives_events_again_once_the_broker_is_back(
        broker_proxy: TCPProxy, open_rabbitmq, queue, eventually):
    url = str(URL(broker_proxy.url_for(AMQP_URL)).update_query(reconnect_interval="0.2"))
    subscriber = await open_rabbitmq(url=url)
    publisher = await open_rabbitmq()
    consumer = Recorder()
    await subscriber.subscribe(queue, [ROUTING_KEY], consumer)
    await publisher.publish(ROUTING_KEY, BODY, message_id="before")
    await consumer.received(1)

    await broker_proxy.cut()
    await eventually(_is(subscriber, connected=False), timeout=5.0)
    await publisher.publish(ROUTING_KEY, BODY, message_id="while-cut-off")
    await broker_proxy.restore()
    await eventually(_is(subscriber, connected=True), timeout=5.0)
    await publisher.publish(ROUTING_KEY, BODY, message_id="after")

    async def both_arrived() -> None:
        # At least once: "before" may come twice, its ack having been lost in the cut.
        received = {delivery.message_id for delivery in consumer.deliveries}
        assert received == {"before", "while-cut-off", "after"}

    await eventually(both_arrived, timeout=10.0)


async def test_an_event_in_flight_when_the_connection_drops_is_delivered_again(
        broker_proxy: TCPProxy, open_rabbitmq, queue, eventually):
    url = str(URL(broker_proxy.url_for(AMQP_URL)).update_query(reconnect_interval="0.2"))
    subscriber = await open_rabbitmq(url=url)
    publisher = await open_rabbitmq()
    release = asyncio.Event()
    deliveries: list[Delivery] = []

    async def slow_then_fine(delivery: Delivery) -> Disposition:
        deliveries.append(delivery)
        if len(deliveries) == 1:
            await release.wait()
        return Disposition.ack()

    await subscriber.subscribe(queue, [ROUTING_KEY], slow_then_fine)
    await publisher.publish(ROUTING_KEY, BODY, message_id="evt-1")
    await eventually(_has(deliveries, 1))

    await broker_proxy.cut()
    release.set()  # the first callback returns while the connection is gone: no ack lands
    await broker_proxy.restore()

    await eventually(_has(deliveries, 2), timeout=10.0)
    assert deliveries[1].message_id == "evt-1"
    assert deliveries[1].attempt == 2


def _is(transport: Any, *, connected: bool) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        assert transport.is_connected is connected

    return check


def _has(deliveries: list[Delivery], count: int) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        assert len(deliveries) >= count

    return check


# -- in-memory topic matching ----------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "routing_key", "matches"), [
    ("orders.OrderPlaced.v1", "orders.OrderPlaced.v1", True),
    ("orders.*.v1", "orders.OrderPlaced.v1", True),
    ("orders.*.v1", "orders.OrderPlaced.v2", False),
    ("orders.*", "orders.a.b", False),
    ("orders.#", "orders", True),
    ("orders.#", "orders.a.b", True),
    ("#.v1", "orders.OrderPlaced.v1", True),
    ("#", "anything.at.all", True),
    ("orders.#.v1", "orders.v1", True),
    ("orders.#.v1", "orders.v2", False),
    ("*.OrderPlaced.*", "orders.OrderPlaced.v1", True),
])
def test_topic_patterns_match_like_a_rabbitmq_topic_exchange(pattern, routing_key, matches):
    assert topic_matches(pattern, routing_key) is matches
