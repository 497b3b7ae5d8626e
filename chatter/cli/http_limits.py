"""Limits on slow clients that uvicorn lacks: a header read timeout.

uvicorn closes a connection idle between requests (``timeout_keep_alive``) and caps how many
connections it serves (``limit_concurrency``) and how big a request head may be
(``h11_max_incomplete_event_size``), but a client that connects and then sends its request
line and headers slowly, or never, holds a connection and a file for ever (slowloris).
``HeaderTimeoutProtocol`` is uvicorn's h11 protocol plus one timer: a request's line and
headers must arrive within ``http_header_timeout_s`` of the connection opening, or of the
previous response, else the connection is closed. ``chatter serve`` names it by import
string (``HTTP_PROTOCOL``), so every worker process loads it.

A request refused before it is read to its end (a head over the size limit, malformed bytes)
is answered 400 and the connection closed the way HTTP servers close after an error
("lingering close"): the response, then the end of the server's side, then the rest of what the
client sends is read and dropped (for at most ``LINGER_S``) until it closes too. Closed at
once, with the client's bytes still unread, the kernel resets the connection, and a client
still sending its oversized request may lose the 400 it was sent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http import h11_impl
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from chatter.settings import get_settings

HTTP_PROTOCOL = "chatter.cli.http_limits:HeaderTimeoutProtocol"
LINGER_S = 2.0
_BUSY = json.dumps(
    {
        "error": {
            "code": "too_many_connections",
            "message": "The server is at its connection limit (CHATTER_HTTP_MAX_CONNECTIONS); "
            "try again shortly.",
        }
    }
).encode()


async def service_unavailable(scope: Any, receive: Any, send: Any) -> None:
    """The 503 past the connection limit, in the API's error body rather than uvicorn's plain
    text: a client parses one shape of error."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_BUSY)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _BUSY, "more_body": False})


# uvicorn's h11 protocol answers past ``limit_concurrency`` with this module-level app before
# any of ours runs; it has no setting for the body, so the protocol this module provides (the
# only one `chatter serve` uses) swaps in the JSON one.
h11_impl.service_unavailable = service_unavailable


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol that disconnects a client slower than the header timeout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = get_settings().http_header_timeout_s
        self._header_timer: asyncio.TimerHandle | None = None
        self._lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the rest of a refused request: read and dropped
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the whole head is in: a request began
            self._disarm()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's 400 (the same response), then a lingering close rather than its
        immediate one. Written out, not wrapped: uvloop's transports do not let their
        ``close`` be swapped for the length of uvicorn's method."""
        transport = self.transport
        head = h11.Response(
            status_code=400,
            headers=[(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")],
            reason=STATUS_PHRASES[400],
        )
        for event in (head, h11.Data(data=msg.encode("ascii")), h11.EndOfMessage()):
            transport.write(self.conn.send(event) or b"")
        if transport.is_closing():
            return
        self._disarm()
        self._lingering = True
        if transport.can_write_eof():
            transport.write_eof()  # the response is all: the client reads it to its end
        # The client closing its side ends it (asyncio closes the transport on that EOF).
        self.loop.call_later(LINGER_S, transport.close)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's head has as long again

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        # Still waiting for (the rest of) a request head; a request being answered, or a
        # response streaming, is never cut.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.debug("Request headers not received in time: connection closed.")
            self.transport.close()
