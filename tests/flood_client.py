"""One user flooding a server with history reads from many connections, in its own process so
that the test measuring another user does not share its event loop.

``python -m tests.flood_client URL USER CONNECTIONS``: logs in, floods (32 history requests in
flight per connection), prints ``ready`` after 1,000 answers, floods until SIGTERM, then prints
the count of each answer code as JSON.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import signal
import sys

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .own_server import decode_reply, frame, login_frame

WINDOW = 32


async def _flood(
    ws: ClientConnection, codes: collections.Counter[int], going: asyncio.Event
) -> None:
    room = asyncio.Semaphore(WINDOW)

    async def read() -> None:
        async for data in ws:
            reply = decode_reply(data if isinstance(data, bytes) else data.encode())
            if reply.t == "res":
                codes[reply.code] += 1
                room.release()
                if codes.total() >= 1000:
                    going.set()

    reader = asyncio.create_task(read())
    body = {"conv_type": 1, "conv_id": "x", "before_seq": 0, "count": 100}
    try:
        for i in range(10, 10**9):
            await room.acquire()
            await ws.send(frame(i, "history", body), text=True)
    finally:
        reader.cancel()


async def main(url: str, user: str, count: int) -> None:
    codes: collections.Counter[int] = collections.Counter()
    sockets = []
    for i in range(count):
        ws = await connect(url, compression=None, max_size=None)
        await ws.send(login_frame(user, f"flood{i}"), text=True)
        codes[decode_reply(await ws.recv(decode=False)).code] += 1
        sockets.append(ws)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    going = asyncio.Event()
    tasks = [asyncio.create_task(_flood(ws, codes, going)) for ws in sockets]
    await going.wait()
    print("ready", flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
            await task
    print(json.dumps(dict(codes)), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
