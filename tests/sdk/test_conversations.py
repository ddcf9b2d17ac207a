"""ConversationManager folding snapshots and messages, without a server."""

from __future__ import annotations

from opentim.protocol import Conversation, Message
from opentim.sdk import Client, ConvEvent


def make_client() -> tuple[Client, list[tuple[ConvEvent, list[str]]], list[int]]:
    client = Client("ws://127.0.0.1:9/ws")
    client.user_id = "me"
    events: list[tuple[ConvEvent, list[str]]] = []
    totals: list[int] = []
    client.events.conversations.add(lambda k, cs: events.append((k, [c.conv_id for c in cs])))
    client.events.total_unread.add(totals.append)
    return client, events, totals


def msg(seq: int, sender: str = "bob", count: int | None = None, activity: int = 0) -> Message:
    return Message(
        msg_id=f"m{seq}",
        conv_type=1,
        sender=sender,
        receiver="me" if sender != "me" else "bob",
        elems=[],
        seq=seq,
        count=seq if count is None else count,
        activity=activity or 100 + seq,
    )


def test_stale_snapshots_are_ignored() -> None:
    client, events, totals = make_client()
    convs = client.conversations
    convs.apply([Conversation(conv_type=1, conv_id="bob", max_seq=1, count=1, pos=10)])
    assert events == [(ConvEvent.ADDED, ["bob"])]
    assert totals == [1]
    convs.apply([Conversation(conv_type=1, conv_id="bob", max_seq=0, count=0, pos=5)])
    assert convs.total_unread() == 1
    assert len(events) == 1


def test_messages_advance_the_conversation_once_and_own_ones_read_it() -> None:
    client, events, totals = make_client()
    convs = client.conversations
    convs.apply([Conversation(conv_type=1, conv_id="bob", pos=1)])
    assert convs.apply_message(msg(1))
    assert convs.apply_message(msg(1))  # a duplicate changes nothing
    assert convs.total_unread() == 1
    assert convs.apply_message(msg(2, sender="me"))
    assert convs.total_unread() == 0
    assert totals == [1, 0]
    assert [k for k, _ in events] == [ConvEvent.ADDED, ConvEvent.UPDATED, ConvEvent.UPDATED]
    assert not convs.apply_message(msg(1, sender="carol"))  # unknown: must be fetched


def test_deleted_conversation_comes_back_with_a_new_message() -> None:
    client, events, _ = make_client()
    convs = client.conversations
    convs.apply([Conversation(conv_type=1, conv_id="bob", max_seq=3, count=3, pos=1)])
    convs.apply(
        [
            Conversation(
                conv_type=1,
                conv_id="bob",
                max_seq=3,
                count=3,
                read_count=3,
                deleted=True,
                deleted_up_to=3,
                pos=2,
            )
        ]
    )
    assert convs.list() == []
    convs.apply_message(msg(4))
    assert [c.conv_id for c in convs.list()] == ["bob"]
    assert convs.total_unread() == 1
    assert [k for k, _ in events] == [ConvEvent.ADDED, ConvEvent.DELETED, ConvEvent.ADDED]
