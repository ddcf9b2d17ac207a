"""Reaction rules: refusals in Tencent's order of checks, and paging that visits every user once."""

from __future__ import annotations

from hypothesis import given, strategies as st

from opentim.protocol import ErrorCode
from opentim.protocol.rules.reactions import (
    MAX_REACTION_ID_BYTES,
    MAX_REACTIONS_PER_MSG,
    MAX_USER_PAGE,
    MAX_USERS_PER_REACTION,
    add_refusal,
    remove_refusal,
    user_page,
)


def test_add_refusals() -> None:
    full = [f"r{i}" for i in range(MAX_REACTIONS_PER_MSG)]
    assert add_refusal("like", [], [], "a") is None
    assert add_refusal("", [], [], "a") == ErrorCode.ERR_INVALID_PARAMETERS
    assert add_refusal("x" * (MAX_REACTION_ID_BYTES + 1), [], [], "a") == (
        ErrorCode.ERR_INVALID_PARAMETERS
    )
    assert add_refusal("like", ["like"], ["a"], "a") == (
        ErrorCode.ERR_SVR_MSG_REACTION_ALREADY_CONTAIN_USER
    )
    assert add_refusal("new", full, [], "a") == ErrorCode.ERR_SVR_MSG_REACTION_COUNT_LIMIT
    assert add_refusal("r0", full, ["b"], "a") is None
    many = [f"u{i}" for i in range(MAX_USERS_PER_REACTION)]
    assert add_refusal("r0", full, many, "a") == ErrorCode.ERR_SVR_MSG_REACTION_USER_COUNT_LIMIT


def test_remove_refusals() -> None:
    assert remove_refusal("like", ["a"], "a") is None
    assert remove_refusal("like", [], "a") == ErrorCode.ERR_SVR_MSG_REACTION_NOT_EXISTS
    assert remove_refusal("like", ["b"], "a") == ErrorCode.ERR_SVR_MSG_REACTION_NOT_CONTAIN_USER


@given(st.integers(0, 250), st.integers(-5, 150))
def test_paging_visits_every_user_once_in_order(n: int, count: int) -> None:
    users = [f"u{i}" for i in range(n)]
    seen: list[str] = []
    start = 0
    while True:
        page, start = user_page(users, start, count)
        assert len(page) <= min(max(count, 1), MAX_USER_PAGE)
        seen += page
        if start == 0:
            break
    assert seen == users
