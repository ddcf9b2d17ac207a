"""The server's op table: one row per op of the protocol, and the facts its columns hold."""

from __future__ import annotations

from opentim.protocol import When
from opentim.protocol.ops import OPS
from opentim.server.gateway.dispatch import OP_TABLE, WHEN, Rate


def test_every_op_of_the_protocol_has_exactly_one_row() -> None:
    assert OP_TABLE.keys() == OPS.keys()


def test_only_login_and_ping_may_come_before_login() -> None:
    before = {op for op, when in WHEN.items() if when & When.BEFORE_LOGIN}
    after = {op for op, when in WHEN.items() if when & When.LOGGED_IN}
    assert before == {"login", "ping"}
    assert after == set(OPS) - {"login"}


def test_login_takes_the_address_bucket_and_session_ops_take_no_turn() -> None:
    assert {op for op, row in OP_TABLE.items() if row.rate is Rate.LOGIN} == {"login"}
    assert {op for op, row in OP_TABLE.items() if not row.turn} == {
        "login",
        "logout",
        "ping",
        "send",
    }
