"""The pin rule: who may pin, the limit, pin and unpin of what is (not) pinned."""

from __future__ import annotations

from hypothesis import given, strategies as st

from opentim.protocol import ErrorCode, MemberRole
from opentim.protocol.rules.pins import MAX_PINNED, pin_refusal


@given(
    st.sampled_from(list(MemberRole)),
    st.sets(st.integers(1, 30), max_size=MAX_PINNED),
    st.integers(1, 30),
    st.booleans(),
)
def test_pin_refusal(role: MemberRole, pinned: set[int], seq: int, pin: bool) -> None:
    refusal = pin_refusal(role, pinned, seq, pin)
    if role < MemberRole.ADMIN:
        assert refusal == ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY
    elif pin and seq in pinned:
        assert refusal == ErrorCode.ERR_SVR_GROUP_MESSAGE_ALREADY_PINNED
    elif pin:
        full = len(pinned) >= MAX_PINNED
        assert refusal == (ErrorCode.ERR_SVR_GROUP_PINNED_MESSAGE_COUNT_LIMIT if full else None)
    else:
        assert refusal == (None if seq in pinned else ErrorCode.ERR_SVR_GROUP_INVALID_PARAMETERS)
