"""A bounded slice of fuzzing against a real server (``bench/fuzz.py`` runs long ones).

Every fuzzed frame gets an answer or a clean close with a reason; nothing is logged at ERROR
(no traceback); a refused request changes nothing in the database; and afterwards the users
the fuzzer was not are still served.
"""

from __future__ import annotations

import asyncio
import logging
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from opentim.protocol import ConvType, GroupType
from opentim.sdk import Client
from opentim.server.app import Server

from ..conftest import sig
from ..dbdump import sqlite_dump
from ..fuzzing import Fuzzer, answer, raw_login
from ..helpers import until

pytestmark = pytest.mark.e2e
ATTACKER = "mallory"


async def open_attacker(server: Server) -> ClientConnection:
    return await raw_login(server.url, ATTACKER, sig(ATTACKER), 1400000000)


@pytest.fixture
async def world(server: Server) -> tuple[str, ...]:
    alice, bob = Client(server.url), Client(server.url)
    try:
        await alice.login("alice", sig("alice"))
        await bob.login("bob", sig("bob"))
        await (await open_attacker(server)).close()  # registers the attacker
        group = await alice.groups.create("with mallory", GroupType.PUBLIC, members=[ATTACKER])
        closed = await alice.groups.create("without", GroupType.PRIVATE, members=["bob"])
        await alice.messages.send_text(ConvType.C2C, "bob", "hello")
        await alice.messages.send_text(ConvType.GROUP, group, "hi all")
        return group, closed
    finally:
        await alice.close()
        await bob.close()


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(rng=st.randoms(use_true_random=False))
async def test_fuzzed_frames_are_answered_and_refusals_change_nothing(
    server: Server,
    world: tuple[str, ...],
    rng: random.Random,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    fuzzer = Fuzzer(rng, users=("alice", "bob", ATTACKER, "@TIM#SYSTEM", "x" * 33), groups=world)
    dump = sqlite_dump(server.config.db_path)
    ws = await open_attacker(server)
    try:
        for req_id in range(1, 16):
            before = dump()
            data = fuzzer.frame(req_id)
            try:
                await ws.send(data)
                frame = await answer(ws)
            except ConnectionClosed as exc:
                closed = exc.rcvd
            else:
                closed = None
            if closed is not None or ws.close_code is not None:
                assert closed is not None, "closed without a close frame"
                assert closed.code != 1011, closed  # an internal error is never a way out
                ws = await open_attacker(server)
                continue
            if frame.get("code", 0) != 0:
                assert dump() == before, f"refused {data[:200]!r} changed the database"
    finally:
        await ws.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


async def test_bystanders_are_served_while_a_fuzzer_runs(
    server: Server, world: tuple[str, ...]
) -> None:
    fuzzer = Fuzzer(random.Random(7), users=("alice", "bob", ATTACKER), groups=world)

    async def fuzz() -> None:
        ws = await open_attacker(server)
        try:
            for req_id in range(1, 200):
                try:
                    await ws.send(fuzzer.frame(req_id))
                    await answer(ws)
                except ConnectionClosed:
                    ws = await open_attacker(server)
        finally:
            await ws.close()

    alice, bob = Client(server.url), Client(server.url)
    try:
        await alice.login("alice", sig("alice"))
        await bob.login("bob", sig("bob"))
        await bob.wait_synced()
        got: list[str] = []
        bob.events.new_messages.add(lambda msgs: got.extend(m.msg_id for m in msgs))
        attacker = asyncio.ensure_future(fuzz())
        sent = [await alice.messages.send_text(ConvType.C2C, "bob", f"m{i}") for i in range(20)]
        await until(bob, lambda: all(m.msg_id in got for m in sent), timeout=10)
        await attacker
    finally:
        await alice.close()
        await bob.close()
