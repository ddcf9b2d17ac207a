"""A server in its own process, configured in the test (``Limits`` fields, trusted proxies):
for what only a process shows (its memory, its open-file limit) or a load that must not share
the test's event loop. Also the raw-WebSocket helpers those tests use.

Run as ``python -m tests.own_server SPEC_JSON``: prints ``port N`` once listening, stops on
SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import resource
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from opentim.server.app import Server
from opentim.server.config import Limits, ServerConfig

from .conftest import SECRET_KEY, sig

ROOT = Path(__file__).resolve().parent.parent


@contextlib.asynccontextmanager
async def own_server(
    data_dir: Path,
    *,
    limits: dict[str, Any] | None = None,
    trusted_proxies: list[str] | None = None,
    nofile_soft: int | None = None,
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Start the server process; yield it and its ``ws://`` URL; SIGTERM it after."""
    spec = {
        "data_dir": str(data_dir),
        "limits": limits or {},
        "trusted_proxies": trusted_proxies or [],
    }

    def lower_nofile() -> None:
        if nofile_soft is not None:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile_soft, hard))

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.own_server",
        json.dumps(spec),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        preexec_fn=lower_nofile,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            line = await proc.stdout.readline()
        assert line.startswith(b"port "), line
        yield proc, f"ws://127.0.0.1:{int(line.split()[1])}/ws"
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                await proc.wait()


def vmrss_kib(pid: int) -> int:
    """The process's resident memory (``VmRSS`` in /proc/PID/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Reply(msgspec.Struct):
    t: str
    id: int = 0
    code: int = 0
    desc: str = ""
    kind: str = ""


decode_reply = msgspec.json.Decoder(Reply).decode


def frame(req_id: int, op: str, body: dict[str, Any]) -> bytes:
    return msgspec.json.encode({"t": "req", "id": req_id, "op": op, "body": body})


def login_frame(user_id: str, device_id: str = "raw", req_id: int = 1) -> bytes:
    from opentim.server.config import DEFAULT_SDKAPPID

    return frame(
        req_id,
        "login",
        {
            "user_id": user_id,
            "user_sig": sig(user_id),
            "sdkappid": DEFAULT_SDKAPPID,
            "device_id": device_id,
        },
    )


async def raw_login(url: str, user_id: str, device_id: str = "raw", **kw: Any) -> ClientConnection:
    """A bare WebSocket logged in as ``user_id`` (the login answer checked)."""
    ws = await connect(url, compression=None, max_size=None, **kw)
    await ws.send(login_frame(user_id, device_id), text=True)
    reply = decode_reply(await ws.recv(decode=False))
    assert (reply.t, reply.id, reply.code) == ("res", 1, 0), reply
    return ws


async def _main(spec: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    config = ServerConfig(
        port=0,
        data_dir=Path(spec["data_dir"]),
        secret_key=SECRET_KEY,
        limits=Limits(**spec["limits"]),
    )
    if spec["trusted_proxies"]:
        config.trusted_proxies = spec["trusted_proxies"]
    server = Server(config)
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    os.write(1, f"port {server.port}\n".encode())
    await stop.wait()
    await server.stop()


if __name__ == "__main__":
    asyncio.run(_main(json.loads(sys.argv[1])))
