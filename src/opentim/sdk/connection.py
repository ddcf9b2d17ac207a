"""One WebSocket to the server: requests correlated by id, pushes handed to the client.

The one boundary where error frames become ``SdkError`` (STYLE §2.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import ssl
from collections.abc import Callable
from typing import TypeVar

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from opentim.protocol import (
    ErrorCode,
    Push,
    RemoteProtocolError,
    Request,
    Response,
    decode_body,
    decode_server_frame,
    encode,
    raw,
)
from opentim.protocol.limits import MAX_SERVER_FRAME_BYTES

from .exceptions import ConnectionLostError, SdkError

log = logging.getLogger(__name__)

T = TypeVar("T", bound=msgspec.Struct)


class Connection:
    """A connected WebSocket. ``on_push`` gets every push; ``on_close`` fires once, when it ends."""

    def __init__(
        self,
        on_push: Callable[[Push], None],
        on_close: Callable[[], None],
        request_timeout: float = 15.0,
    ) -> None:
        self._on_push = on_push
        self._on_close = on_close
        self.request_timeout = request_timeout
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Response]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def open(
        self, url: str, timeout: float = 10.0, tls: ssl.SSLContext | None = None
    ) -> None:
        """Connect, or raise SdkError (9510 timeout, 9508 refused or bad URL, 9503 a server
        certificate that does not verify). A ``wss://`` URL verifies the server's certificate
        against ``tls`` (default: the system's CAs)."""
        try:
            async with asyncio.timeout(timeout):
                self._ws = await connect(
                    url,
                    max_size=MAX_SERVER_FRAME_BYTES,
                    compression=None,
                    open_timeout=None,
                    ssl=tls if url.startswith("wss:") else None,
                )
        except ssl.SSLCertVerificationError as exc:
            raise SdkError(
                ErrorCode.ERR_SDK_NET_AUTH_INVALID,
                f"the server's certificate: {exc.verify_message}",
            ) from exc
        except TimeoutError as exc:
            raise SdkError(
                ErrorCode.ERR_SDK_NET_CONN_TIMEOUT, f"connect to {url} timed out"
            ) from exc
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            raise ConnectionLostError(f"cannot connect to {url}: {exc}") from exc
        self._reader = asyncio.create_task(self._read_loop(), name="opentim-sdk-reader")

    @property
    def is_open(self) -> bool:
        return self._ws is not None and self._reader is not None and not self._reader.done()

    async def request(self, op: str, body: msgspec.Struct, result: type[T]) -> T:
        """Send a request and return its decoded response body, or raise SdkError."""
        ws = self._ws
        if ws is None or not self.is_open:
            raise ConnectionLostError()
        req_id = next(self._ids)
        fut: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        try:
            await ws.send(encode(Request(id=req_id, op=op, body=raw(body))), text=True)
            async with asyncio.timeout(self.request_timeout):
                res = await fut
        except TimeoutError as exc:
            raise SdkError(ErrorCode.ERR_SDK_NET_WAIT_ACK_TIMEOUT, f"no answer to {op}") from exc
        except ConnectionClosed as exc:
            raise ConnectionLostError() from exc
        finally:
            self._pending.pop(req_id, None)
            if fut.done() and not fut.cancelled():
                # The reader may have failed it (the connection ended) while the send was
                # still failing: this request raises already, so its future's error is seen.
                fut.exception()
        if res.code:
            raise SdkError(res.code, res.desc)
        try:
            return decode_body(result, res.body)
        except RemoteProtocolError as exc:
            raise SdkError(ErrorCode.ERR_PARSE_RESPONSE_FAILED, exc.desc) from exc

    async def _read_loop(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for data in ws:
                try:
                    frame = decode_server_frame(data)
                except RemoteProtocolError:
                    log.warning("undecodable frame from server dropped")
                    continue
                if isinstance(frame, Response):
                    fut = self._pending.get(frame.id)
                    if fut is not None and not fut.done():
                        fut.set_result(frame)
                else:
                    self._on_push(frame)
        except ConnectionClosed:
            pass
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionLostError())
            self._pending.clear()
            self._on_close()

    async def close(self) -> None:
        """Close the socket and wait for the reader to finish."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
