"""Fuzz inputs for every frame type and every TIM JSON argument, from one generator.

``Fuzzer(rng)`` builds client frames for every op of ``protocol.OPS`` from the op's own body
type (``msgspec.inspect``), so a new op or field is fuzzed without a line here. Values stay
mostly well-typed, so requests reach the services, and are sometimes not: wrong types, integers
at and past every width boundary, ids of the world's users and groups and of reserved ones,
long, empty, non-ASCII and lone-surrogate strings, missing and unknown fields. Whole frames are
sometimes junk: random bytes, invalid UTF-8, deep nesting, truncated JSON, unknown ops.

The tests draw the ``random.Random`` from hypothesis (``st.randoms()``), so failures shrink and
replay; ``bench/fuzz.py`` drives the same generator with a seeded ``Random`` for long runs.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import msgspec
from msgspec import inspect as mi
from websockets.asyncio.client import ClientConnection, connect

from opentim.protocol.ops import OPS

INTS = (
    0,
    1,
    2,
    -1,
    3,
    100,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**53 + 1,
    2**62,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    -(2**63),
    -(2**63) - 1,
    10**30,
)
NAMES = ("alice", "bob", "carol", "mallory", "@TIM#SYSTEM", "", " ", "x" * 33, "用户", "a\x00b")


class Fuzzer:
    """Fuzz inputs drawn from ``rng``; ``users`` and ``groups`` name the world's real ids."""

    def __init__(
        self, rng: random.Random, users: tuple[str, ...] = NAMES, groups: tuple[str, ...] = ()
    ) -> None:
        self.rng = rng
        self.users = users
        self.groups = groups
        self.ops = sorted(OPS)

    # --- values ---------------------------------------------------------------------------
    def text(self, depth: int = 9) -> str:
        """A string; long ones (past field limits, and rarely past the frame limit) only in the
        top-level fields (``depth`` 0-1), so a list of strings stays a reasonable frame."""
        r = self.rng
        pick = r.random()
        if pick < 0.35:
            return r.choice(self.users + self.groups) if self.users + self.groups else "x"
        if pick < 0.55:
            return "".join(r.choice("abcXYZ09_-@#") for _ in range(r.randint(0, 12)))
        if pick < 0.7:
            return r.choice(["你好", "🙂", "c2c_bob", "group_@TGS#1", "\u202e", "\t\n", "null"])
        if pick < 0.8:
            return "\ud800" if r.random() < 0.5 else "a\udfffb"  # lone surrogates
        if pick < 0.95 or depth > 1:
            return "w" * r.choice([33, 100, 257, 1025] + ([12_289] if depth <= 1 else []))
        return "W" * r.choice([70_000, 300_000] if r.random() < 0.1 else [13_000, 20_000])

    def integer(self) -> int:
        r = self.rng
        return r.choice(INTS) if r.random() < 0.6 else r.randint(-5, 1000)

    def junk(self, depth: int = 0) -> Any:
        r = self.rng
        pick = r.randrange(8 if depth < 3 else 5)
        if pick == 0:
            return None
        if pick == 1:
            return r.random() < 0.5
        if pick == 2:
            return self.integer()
        if pick == 3:
            return self.text()
        if pick == 4:
            return r.uniform(-1e300, 1e300)
        if pick in (5, 6):
            return [self.junk(depth + 1) for _ in range(r.randint(0, 4))]
        return {self.text()[:20]: self.junk(depth + 1) for _ in range(r.randint(0, 4))}

    def value(self, t: mi.Type, depth: int = 0) -> Any:
        r = self.rng
        if r.random() < 0.06:
            return self.junk(depth)
        if isinstance(t, mi.IntType):
            return self.integer()
        if isinstance(t, mi.StrType):
            return self.text(depth)
        if isinstance(t, mi.BoolType):
            return r.random() < 0.5
        if isinstance(t, mi.FloatType):
            return r.uniform(-1e9, 1e9)
        if isinstance(t, mi.NoneType):
            return None
        if isinstance(t, mi.ListType):
            # Long lists only near the top: a long list of long lists is slow, not sharper.
            n = r.randint(0, 3)
            if depth <= 1 and r.random() < 0.08:
                n = r.choice([21, 21, 101, 101, 2_000])
            return [self.value(t.item_type, depth + 1) for _ in range(n)]
        if isinstance(t, mi.UnionType):
            return self.value(r.choice(t.types), depth)
        if isinstance(t, mi.StructType):
            return self.struct(t, depth + 1)
        if isinstance(t, mi.DictType):
            # Custom fields (group and member info) are str to str: mostly well typed values,
            # so the fuzz reaches the limits behind the type check.
            return {
                self.text()[:20]: self.value(t.value_type, depth + 1)
                for _ in range(r.choice([0, 1, 3, 17]))
            }
        return self.junk(depth)

    def struct(self, t: mi.StructType, depth: int = 0) -> dict[str, Any]:
        r = self.rng
        out: dict[str, Any] = {}
        for f in t.fields:
            if r.random() < (0.04 if f.required else 0.4):
                continue
            out[f.encode_name] = self.value(f.type, depth)
        if r.random() < 0.05:
            out[self.text()[:20]] = self.junk(depth)
        return out

    def body(self, op: str) -> dict[str, Any]:
        info = mi.type_info(OPS[op][0])
        assert isinstance(info, mi.StructType)
        return self.struct(info)

    # --- frames ---------------------------------------------------------------------------
    def frame(self, req_id: int, ops: list[str] | None = None) -> bytes | str:
        """One client frame: mostly a request with a fuzzed body, sometimes junk."""
        r = self.rng
        pick = r.random()
        if pick < 0.85:
            op = r.choice(ops or self.ops)
            envelope = {"t": "req", "id": req_id, "op": op, "body": self.body(op)}
            return dumps(envelope)
        if pick < 0.88:
            return bytes(r.getrandbits(8) for _ in range(r.randint(0, 64)))
        if pick < 0.90:
            return b'{"t":"req","id":1,"op":"ping","body":{"x":"\xff\xfe"}}'  # invalid UTF-8
        if pick < 0.92:
            depth = r.choice([50, 600, 5_000])
            return '{"t":"req","id":1,"op":"ping","body":' + "[" * depth + "]" * depth + "}"
        if pick < 0.95:
            whole = dumps({"t": "req", "id": req_id, "op": "send", "body": self.body("send")})
            return whole[: r.randint(0, max(0, len(whole) - 1))]
        if pick < 0.98:
            kind = r.choice(["req", "res", "push", 7])
            return dumps({"t": kind, "id": self.junk(), "op": self.text()})
        return dumps([self.junk() for _ in range(3)])


def dumps(obj: Any) -> bytes | str:
    """JSON for a frame; a lone surrogate goes out raw (invalid UTF-8 in a binary frame)."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def is_error_answer(data: bytes) -> bool:
    """Whether ``data`` is a well-formed error response (any request id)."""
    try:
        frame = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return False
    return isinstance(frame, dict) and frame.get("t") == "res" and frame.get("code", 0) != 0


async def raw_login(url: str, user_id: str, user_sig: str, sdkappid: int) -> ClientConnection:
    """A bare protocol connection logged in as ``user_id`` (what a fuzzer sends through)."""
    ws = await connect(url, max_size=None)
    body = {"user_id": user_id, "user_sig": user_sig, "sdkappid": sdkappid}
    await ws.send(msgspec.json.encode({"t": "req", "id": 0, "op": "login", "body": body}))
    await answer(ws)
    return ws


async def answer(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    """The next response on ``ws``, pushes skipped; every frame must get one in time."""
    async with asyncio.timeout(timeout):
        while True:
            frame = msgspec.json.decode(await ws.recv(decode=False))
            if isinstance(frame, dict) and frame.get("t") == "res":
                return frame
