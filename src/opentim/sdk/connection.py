"""One WebSocket to the server: frames out, frames in, and its end. Nothing else: which request
an answer belongs to is the session core's business (core/requests.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from opentim.protocol import ErrorCode
from opentim.protocol.limits import MAX_SERVER_FRAME_BYTES

from .exceptions import ConnectionLostError, SdkError

log = logging.getLogger(__name__)


class Connection:
    """A connected WebSocket. ``on_frame`` gets every frame; ``on_close`` fires once, when it
    ends."""

    def __init__(
        self, on_frame: Callable[[bytes | str], None], on_close: Callable[[], None]
    ) -> None:
        self._on_frame = on_frame
        self._on_close = on_close
        self._ws: ClientConnection | None = None
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

    def send(self, frame: bytes) -> Awaitable[None]:
        """Send one frame (awaited, it raises ``ConnectionClosed`` if the connection ends);
        ConnectionLostError at once if it has ended."""
        ws = self._ws
        if ws is None or not self.is_open:
            raise ConnectionLostError()
        return ws.send(frame, text=True)

    async def _read_loop(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for data in ws:
                self._on_frame(data)
        except ConnectionClosed:
            pass
        finally:
            self._on_close()

    async def close(self) -> None:
        """Close the socket and wait for the reader to finish."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
