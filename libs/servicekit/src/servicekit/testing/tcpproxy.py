"""A TCP forwarder a test controls, to cut a client off from a server and let it back.

    proxy = TCPProxy("127.0.0.1", 5672)
    await proxy.start()
    transport = RabbitMQTransport(proxy.url_for(AMQP_URL))
    await proxy.cut()      # every live connection drops; new ones are refused
    await proxy.restore()  # connections get through again

While cut, the proxy keeps listening and closes each new connection as soon as it is accepted,
so a reconnecting client fails fast and keeps retrying on the same address.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

_CHUNK = 64 * 1024


class TCPProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port: int | None = None
        self._server: asyncio.Server | None = None
        self._cut = False
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Listen on an ephemeral port of 127.0.0.1 and return it."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def url_for(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's (credentials, path and query
        kept)."""
        if self.port is None:
            raise RuntimeError("start() the proxy first")
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    async def cut(self) -> None:
        """Drop every live connection (abruptly, like a failed network) and refuse new ones."""
        self._cut = True
        for client, upstream in list(self._links):
            client.transport.abort()
            upstream.transport.abort()
        await self._settle()

    async def restore(self) -> None:
        self._cut = False

    async def close(self) -> None:
        await self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _settle(self) -> None:
        # Let the pumps notice the aborted sockets and finish.
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=2.0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._forward(reader, writer)
        finally:
            self._handlers.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port,
            )
        except OSError:
            writer.transport.abort()
            return
        link = (writer, upstream_writer)
        self._links.add(link)
        try:
            # When either direction ends, close both sides.
            pumps = [asyncio.create_task(_pump(reader, upstream_writer)),
                     asyncio.create_task(_pump(upstream_reader, writer))]
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._links.discard(link)
            for side in link:
                side.close()
                with contextlib.suppress(Exception):
                    await side.wait_closed()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
