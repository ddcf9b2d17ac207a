"""What a conversation snapshot derives from its fields, and pushes of unknown kinds."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, strategies as st

from opentim.protocol import Conversation, ErrorCode, Push, RemoteProtocolError, decode_push
from opentim.protocol.models import Mark

counts = st.integers(0, 2**40)


@given(count=counts, read=counts, deleted=st.booleans())
def test_unread_is_never_negative_and_a_tombstone_has_none(
    count: int, read: int, deleted: bool
) -> None:
    conv = Conversation(conv_type=1, conv_id="bob", count=count, read_count=read, deleted=deleted)
    assert conv.unread >= 0
    assert conv.unread == (0 if deleted else max(0, count - read))


def test_the_hide_mark_hides_whatever_other_marks_say() -> None:
    assert Conversation(conv_type=1, conv_id="bob", marks=Mark.HIDE | Mark.STAR).hidden
    assert not Conversation(conv_type=1, conv_id="bob", marks=Mark.STAR).hidden


def test_a_push_of_an_unknown_kind_is_the_peers_fault() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode_push(Push(kind="gossip", body=msgspec.Raw(b"{}")))
    assert info.value.code == ErrorCode.ERR_PARSE_RESPONSE_FAILED
