"""The push of a new message: built by one function, for the services and the relay alike."""

from __future__ import annotations

from opentim.protocol import ConvType, Message, c2c_channel, decode_server_frame, group_channel
from opentim.server.bus.base import message_envelope


def msg(conv_type: int, sender: str, receiver: str, is_tips: bool = False) -> Message:
    return Message(
        msg_id="m",
        conv_type=conv_type,
        sender=sender,
        receiver=receiver,
        elems=[],
        seq=7,
        is_tips=is_tips,
    )


def test_a_c2c_message_reaches_both_users_at_its_position() -> None:
    env = message_envelope(msg(ConvType.C2C, "alice", "bob"), "conn-1")
    assert env.users == ["alice", "bob"]
    assert (env.channel_id, env.seq, env.skip_conn) == (c2c_channel("alice", "bob"), 7, "conn-1")
    assert not env.group_id
    push = decode_server_frame(env.frame)
    assert push.kind == "msg"  # type: ignore[union-attr]


def test_a_message_to_oneself_reaches_one_user_once() -> None:
    assert message_envelope(msg(ConvType.C2C, "alice", "alice")).users == ["alice"]


def test_a_group_message_names_the_group_and_a_tip_drops_member_lists() -> None:
    env = message_envelope(msg(ConvType.GROUP, "alice", "g1"), extra_users=["carol"])
    assert (env.group_id, env.users, env.extra_users) == ("g1", [], ["carol"])
    assert (env.channel_id, env.members_changed) == (group_channel("g1"), False)
    tip = message_envelope(msg(ConvType.GROUP, "alice", "g1", is_tips=True))
    assert tip.members_changed
    assert tip.extra_users == []
