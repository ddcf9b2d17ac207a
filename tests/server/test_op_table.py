"""The server's op table: one row per op of the protocol, and the facts its columns hold."""

from __future__ import annotations

from opentim.protocol import SessionState, When
from opentim.protocol.ops import OPS
from opentim.server.gateway.dispatch import ALLOWED, OP_TABLE, WHEN, Rate


def test_every_op_of_the_protocol_has_exactly_one_row() -> None:
    assert OP_TABLE.keys() == OPS.keys()


def test_only_login_and_ping_may_come_before_login_and_a_closed_session_takes_nothing() -> None:
    assert ALLOWED[SessionState.AUTHENTICATING] == {"login", "ping"}
    assert ALLOWED[SessionState.OPEN] == set(OPS) - {"login"}
    assert ALLOWED[SessionState.CLOSED] == set()
    assert {op for op, when in WHEN.items() if when is When.ALWAYS} == {"ping"}


def test_login_takes_the_address_bucket_and_session_ops_take_no_turn() -> None:
    assert {op for op, row in OP_TABLE.items() if row.rate is Rate.LOGIN} == {"login"}
    assert {op for op, row in OP_TABLE.items() if not row.turn} == {
        "login",
        "logout",
        "ping",
        "send",
    }
