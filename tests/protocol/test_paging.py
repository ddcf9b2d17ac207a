"""Paging by bytes (protocol/paging.py)."""

from __future__ import annotations

import msgspec

from opentim.protocol import AtInfo, Conversation, Draft, Message, Profile
from opentim.protocol.limits import (
    MAX_AT_INFO,
    MAX_CONV_GROUP_NAME_BYTES,
    MAX_CONV_GROUPS,
    MAX_CUSTOM_DATA_BYTES,
    MAX_DRAFT_BYTES,
    MAX_FRAME_BYTES,
    MAX_LOCATION_BYTES,
    MAX_MSG_BYTES,
    MAX_PROFILE_STRING_BYTES,
    MAX_REVOKE_REASON_BYTES,
    MAX_SERVER_FRAME_BYTES,
    MAX_USER_ID_BYTES,
    PAGE_BYTES,
)
from opentim.protocol.paging import chunks, fitting

_encoder = msgspec.json.Encoder()


def sized(n: int, nick_bytes: int) -> Profile:
    return Profile(user_id=f"u{n}", nick="x" * nick_bytes)


def test_fitting_counts_what_fits_and_never_zero() -> None:
    assert fitting([]) == 0
    items = [sized(i, 100) for i in range(10)]
    one = len(_encoder.encode(items[0])) + 1
    assert fitting(items, one * 10) == 10
    assert fitting(items, one * 10 - 1) == 9
    assert fitting(items, one * 3) == 3
    assert fitting(items, 1) == 1, "an item over the budget goes alone"


def test_chunks_cover_every_item_in_order_within_the_budget() -> None:
    items = [sized(i, 40_000 if i % 3 else 300_000) for i in range(12)]
    parts = chunks(items)
    assert [p.user_id for part in parts for p in part] == [p.user_id for p in items]
    for part in parts:
        size = sum(len(_encoder.encode(p)) + 1 for p in part)
        assert size <= PAGE_BYTES or len(part) == 1
    assert chunks([]) == []


def test_the_limits_leave_room_for_envelopes_and_legacy_rows() -> None:
    assert PAGE_BYTES + 32 * 1024 <= MAX_FRAME_BYTES <= MAX_SERVER_FRAME_BYTES


def test_the_largest_items_the_limits_allow_are_as_documented() -> None:
    """docs/security.md: about 19 KB for a message, 37 KB for a conversation, all fields full."""
    big, u32, u64 = 2**63 - 1, 2**32 - 1, 2**64 - 1
    uid = "u" * MAX_USER_ID_BYTES
    text = "x" * MAX_PROFILE_STRING_BYTES
    profile = Profile(
        user_id=uid,
        nick=text,
        face_url=text,
        self_signature=text,
        location="l" * MAX_LOCATION_BYTES,
        **dict.fromkeys(("gender", "language", "birthday", "level", "role", "add_permission"), u32),
    )
    msg = Message(
        msg_id="m",
        conv_type=1,
        sender=uid,
        receiver=uid,
        elems=[{"t": "x" * (MAX_MSG_BYTES - 100)}],
        seq=big,
        count=big,
        activity=big,
        server_time=u32,
        client_time=u64,
        random=u64,
        priority=3,
        platform=u32,
        is_tips=True,
        sender_profile=profile,
        revoker=uid,
        revoke_reason="r" * MAX_REVOKE_REASON_BYTES,
    )
    conv = Conversation(
        conv_type=1,
        conv_id=uid,
        read_seq=big,
        read_count=big,
        max_seq=big,
        count=big,
        activity=big,
        pinned=True,
        draft=Draft(user_define="d" * (MAX_DRAFT_BYTES - 40)),
        deleted_up_to=big,
        recv_opt=4,
        show_name=text,
        face_url=text,
        custom_data="c" * MAX_CUSTOM_DATA_BYTES,
        marks=u64,
        hide_seq=big,
        groups=["g" * MAX_CONV_GROUP_NAME_BYTES] * MAX_CONV_GROUPS,
        at_info=[AtInfo(seq=big, at_type=3)] * MAX_AT_INFO,
        last_msg=msg,
        pos=big,
    )
    assert len(_encoder.encode(msg)) < 19_500
    assert len(_encoder.encode(conv)) < 38_000
    assert fitting([conv] * 10) >= 5, "a page holds several of the largest conversations"
