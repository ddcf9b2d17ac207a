"""A device's full pass and the pushes that race it, fed to the sync engine without a server:
history stays history; what was pushed to this connection (sent after it logged in) is new,
announced exactly once, whichever comes first."""

from __future__ import annotations

from opentim.protocol import Conversation, Message
from opentim.sdk import Client


def engine_of(pushed: list[str]) -> Client:
    client = Client("ws://127.0.0.1:9/ws")
    client.user_id = "me"
    client.events.new_messages.add(lambda msgs: pushed.extend(m.msg_id for m in msgs))
    return client


def msg(seq: int) -> Message:
    return Message(
        msg_id=f"m{seq}", conv_type=1, sender="bob", receiver="me", elems=[], seq=seq, count=seq
    )


def snapshot(max_seq: int) -> Conversation:
    return Conversation(conv_type=1, conv_id="bob", max_seq=max_seq, count=max_seq, pos=50)


def test_a_push_counted_in_the_page_as_history_is_still_announced() -> None:
    announced: list[str] = []
    engine = engine_of(announced).engine
    engine._first_pass = True
    engine.apply_snapshots([snapshot(12)], full=True)  # history up to 10, and 11-12 just sent
    engine.on_push(msg(11))
    engine.on_push(msg(12))
    engine.on_push(msg(12))  # the same push again (a relay re-read) is not a new message
    engine.on_push(msg(13))
    assert announced == ["m11", "m12", "m13"]
    assert engine.delivered[(1, "bob")] == 13


def test_a_push_before_the_page_waits_for_it_and_no_history_is_announced() -> None:
    announced: list[str] = []
    engine = engine_of(announced).engine
    engine._first_pass = True
    engine.on_push(msg(11))  # the page that tells what is history has not come yet
    assert announced == []
    assert not engine._fillers  # no fetching of the conversation: history would be replayed
    engine.apply_snapshots([snapshot(11)], full=True)
    assert announced == ["m11"]


def test_outside_a_full_pass_a_delivered_seq_is_a_duplicate() -> None:
    announced: list[str] = []
    engine = engine_of(announced).engine
    engine.delivered[(1, "bob")] = 12
    engine.on_push(msg(11))
    engine.on_push(msg(12))
    assert announced == []


def test_a_conversation_first_seen_in_the_incremental_tail_of_a_first_run_replays_nothing() -> None:
    announced: list[str] = []
    engine = engine_of(announced).engine
    engine._first_pass = True
    engine.apply_snapshots([snapshot(12)], full=False)  # changed after the pass's horizon
    assert not engine._fillers  # no catch-up from seq 0: that would replay its history
    engine.on_push(msg(12))
    assert announced == ["m12"]
