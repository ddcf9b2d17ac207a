"""The sync core without I/O: pushes, pages and answers go in, actions come out. Exactly-once
delivery, gap filling, tokens and resyncs."""

from __future__ import annotations

import msgspec
import pytest

from opentim.protocol import Conversation
from opentim.protocol.cursors import FRESH, parse_token
from opentim.protocol.ops import CatchUpReq, ConvsRes, HistoryReq, HistoryRes, SyncReq, SyncRes
from opentim.sdk.core import (
    Ask,
    Deliver,
    DropCached,
    ReadCached,
    Save,
    SyncCore,
    SyncDone,
    SyncStarted,
)
from opentim.sdk.core.sync import CATCH_UP_PAGE, REALIGN_PAGES, RecentIds
from opentim.sdk.exceptions import ConnectionLostError

from .core_helpers import (
    BOB,
    FULL_TOKEN,
    ME,
    FakeList,
    FakeServer,
    G,
    asks,
    core,
    delivered_ids,
    msg,
    snap,
    token,
)

INC = token()


def with_list(max_seq: int, key: tuple[int, str] = BOB) -> SyncCore:
    """A core past its first sync that delivered ``key`` up to ``max_seq``."""
    c = core(delivered={key: max_seq}, tok=INC)
    c.convs.apply([snap(max_seq, key)])
    return c


# --- exactly once -------------------------------------------------------------------------------
def test_the_next_push_is_delivered_once_and_duplicates_are_dropped() -> None:
    c = with_list(5)
    assert delivered_ids(c.on_push(msg(6))) == ["bob-6"]
    assert c.on_push(msg(6)) == []
    assert c.on_push(msg(5)) == []
    assert c.delivered[BOB] == 6
    assert c.convs.cached(*BOB).max_seq == 6  # type: ignore[union-attr]


def test_an_out_of_order_push_opens_one_gap_filled_once() -> None:
    c = with_list(5)
    server = FakeServer(c)
    server.add(*(msg(s) for s in range(6, 9)))
    first = c.on_push(msg(8))
    (ask,) = asks(first)
    assert isinstance(ask.body, CatchUpReq)
    assert ask.body.after_seq == 5
    assert asks(c.on_push(msg(6))) == []  # the filler is at work: no second request
    assert c.on_push(msg(7)) == []
    done = server.pump(first)
    assert delivered_ids(done) == ["bob-6", "bob-7", "bob-8"]
    assert c.fillers == {}
    assert c.on_push(msg(7)) == []
    assert c.on_push(msg(8)) == []


def test_a_target_raised_while_asking_is_asked_again() -> None:
    c = with_list(5)
    (ask,) = asks(c.on_push(msg(8)))
    assert c.on_push(msg(10)) == []
    out = c.answered(ask.ticket, HistoryRes(msgs=[msg(6), msg(7), msg(8)]))
    assert delivered_ids(out) == ["bob-6", "bob-7", "bob-8"]
    (again,) = asks(out)
    assert isinstance(again.body, CatchUpReq)
    assert again.body.after_seq == 8
    out = c.answered(again.ticket, HistoryRes(msgs=[msg(9), msg(10)]))
    assert delivered_ids(out) == ["bob-9", "bob-10"]
    assert c.fillers == {}


def test_messages_the_user_may_not_see_close_the_gap_up_to_what_was_asked() -> None:
    c = with_list(5)
    (ask,) = asks(c.on_push(msg(8)))
    assert c.answered(ask.ticket, HistoryRes(msgs=[])) == []
    assert c.delivered[BOB] == 8
    assert c.fillers == {}


def test_a_page_cut_by_bytes_is_not_the_end() -> None:
    c = with_list(5)
    (ask,) = asks(c.on_push(msg(9)))
    out = c.answered(ask.ticket, HistoryRes(msgs=[msg(6)], more=True))
    assert c.delivered[BOB] == 6
    (again,) = asks(out)
    assert again.body.after_seq == 6  # type: ignore[attr-defined]


def test_a_failed_catch_up_stops_and_the_next_snapshot_reopens_the_gap() -> None:
    c = with_list(5)
    (ask,) = asks(c.on_push(msg(8)))
    assert c.failed(ask.ticket, ConnectionLostError()) == []
    assert c.fillers == {}
    assert c.targets[BOB] == 8
    (again,) = asks(c.on_snapshots([snap(8, pos=100)]))
    assert again.body.after_seq == 5  # type: ignore[attr-defined]


def test_an_unknown_ticket_is_dropped() -> None:
    c = with_list(5)
    assert c.answered(999, HistoryRes(msgs=[msg(6)])) == []
    assert c.failed(999, ConnectionLostError()) == []
    assert c.delivered[BOB] == 5


# --- conversations new to this device ---------------------------------------------------------
def test_a_push_of_an_unknown_conversation_learns_it_then_fills_up_to_it() -> None:
    c = core(tok=INC)
    server = FakeServer(c)
    server.add(msg(1), msg(2), msg(3))
    server.snaps[BOB] = snap(3)
    out = server.pump(c.on_push(msg(3)))
    assert server.asked == ["conv_get", "catch_up"]
    assert delivered_ids(out) == ["bob-1", "bob-2", "bob-3"]
    assert c.delivered[BOB] == 3


def test_a_conversation_the_server_does_not_return_starts_at_zero() -> None:
    c = core(tok=INC)
    server = FakeServer(c)
    server.add(msg(1))
    out = server.pump(c.on_push(msg(1)))
    assert delivered_ids(out) == ["bob-1"]


def test_a_group_learned_while_another_device_read_ahead_skips_nothing() -> None:
    """The user's other device read (or sent) up to 13 while this one learned the group from
    the pushes of 11, 12, 13: it still delivers 11 and 12 (it used to start at 12)."""
    c = core(tok=INC)
    server = FakeServer(c)
    server.add(*(msg(s, G) for s in range(1, 14)))
    server.snaps[G] = snap(13, G, read_seq=13)  # joined at 10; the other device read 13
    first = c.on_push(msg(11, G))
    assert c.on_push(msg(12, G)) == []
    assert c.on_push(msg(13, G)) == []
    out = server.pump(first)
    assert delivered_ids(out) == ["g-11", "g-12", "g-13"]


def test_a_group_new_to_this_device_starts_after_what_the_user_read_when_joining() -> None:
    c = core(tok=INC)
    server = FakeServer(c)
    server.add(*(msg(s, G) for s in range(1, 13)))
    out = server.pump(c.on_snapshots([snap(12, G, read_seq=10)]))
    assert delivered_ids(out) == ["g-11", "g-12"]  # not the history from before joining


def test_a_c2c_conversation_new_to_this_device_delivers_from_its_start() -> None:
    c = core(tok=INC)
    server = FakeServer(c)
    server.add(msg(1), msg(2))
    out = server.pump(c.on_snapshots([snap(2, read_seq=1)]))
    assert delivered_ids(out) == ["bob-1", "bob-2"]


# --- sent here ------------------------------------------------------------------------------------
def test_a_sent_message_is_delivered_silently_and_its_push_is_a_duplicate() -> None:
    c = with_list(5)
    mine = msg(6, sender=ME)
    out = c.sent_here(mine)
    assert out == [Deliver(BOB, mine, announce=False)]
    assert c.on_push(mine) == []
    assert c.sent_here(mine) == []


def test_a_message_this_device_is_sending_is_never_announced_when_a_fill_brings_it_first() -> None:
    """A send queued offline goes out on reconnect; a catch-up may read it before its answer."""
    c = with_list(5)
    server = FakeServer(c)
    mine = msg(7, sender=ME)
    c.sending(mine.msg_id)
    server.add(msg(6), mine, msg(8))
    out = server.pump(c.on_push(msg(8)))  # a gap: the filler reads 6 and 7 before the answer
    assert delivered_ids(out) == ["bob-6", "bob-8"]
    assert delivered_ids(out, announced=False) == ["bob-7"]
    assert c.sent_here(mine) == []


def test_the_first_message_of_a_new_conversation_sent_here_needs_no_fetch() -> None:
    c = core(tok=INC)
    c.convs.apply([snap(0)])
    out = c.sent_here(msg(1, sender=ME))
    assert delivered_ids(out, announced=False) == ["bob-1"]
    assert asks(out) == []


def test_a_send_beyond_a_gap_fills_the_gap_without_announcing_it() -> None:
    c = with_list(5)
    server = FakeServer(c)
    mine = msg(7, sender=ME)
    server.add(msg(6), mine)
    out = server.pump(c.sent_here(mine))
    assert delivered_ids(out) == ["bob-6"]
    assert delivered_ids(out, announced=False) == ["bob-7"]


def test_a_send_into_a_conversation_new_here_learns_it_and_delivers_the_pushes_before() -> None:
    c = core(tok=INC)
    server = FakeServer(c)
    mine = msg(2, sender=ME)
    server.add(msg(1), mine)
    server.snaps[BOB] = snap(2)
    first = c.sent_here(mine)
    assert asks(c.on_push(msg(1))) == []  # learning already
    out = server.pump(first)
    assert delivered_ids(out) == ["bob-1"]
    assert delivered_ids(out, announced=False) == ["bob-2"]


# --- sync passes and tokens -------------------------------------------------------------------
def page(*convs: Conversation, cursor: str = INC, more: bool = False, **kw: object) -> SyncRes:
    return SyncRes(convs=list(convs), cursor=cursor, more=more, **kw)  # type: ignore[arg-type]


def test_a_first_sync_pages_through_the_list_and_keeps_the_token() -> None:
    c = core()
    out = c.start()
    assert isinstance(out[0], SyncStarted)
    (ask,) = asks(out)
    assert ask.body == SyncReq(cursor="")
    assert c.full_passes == 1
    assert c.running
    out = c.answered(ask.ticket, page(snap(3), cursor=FULL_TOKEN, more=True))
    assert Save([snap(3)], FULL_TOKEN) in out
    (ask,) = asks(out)
    assert ask.body == SyncReq(cursor=FULL_TOKEN)
    out = c.answered(ask.ticket, page(snap(4, G), conv_groups=["work"]))
    assert out[-1] == SyncDone(None)
    assert not c.running
    assert c.token == INC
    assert c.convs.group_names == ["work"]
    assert c.delivered == {BOB: 3, G: 4}  # history, not replayed
    assert delivered_ids(out) == []
    assert c.full_passes == 1


def test_an_incremental_sync_delivers_what_came_while_offline() -> None:
    c = with_list(5)
    server = FakeServer(c)
    server.add(msg(6), msg(7))
    (ask,) = asks(c.start())
    assert c.full_passes == 0
    out = server.pump(c.answered(ask.ticket, page(snap(7, pos=70))))
    assert delivered_ids(out) == ["bob-6", "bob-7"]


def test_a_failed_page_ends_the_pass_with_its_error_and_releases_held_pushes() -> None:
    c = core()
    (ask,) = asks(c.start())
    assert c.on_push(msg(1)) == []  # held: the pass's page would tell what is history
    out = c.failed(ask.ticket, ConnectionLostError())
    assert isinstance(out[-1], SyncDone)
    assert isinstance(out[-1].error, ConnectionLostError)
    assert [a.op for a in asks(out)] == ["conv_get"]  # learnt now, as any new conversation


def test_a_sync_asked_while_one_runs_follows_it() -> None:
    c = with_list(5)
    (ask,) = asks(c.start())
    assert c.sync_soon() == []
    out = c.answered(ask.ticket, page())
    assert out[-3:-1] == [SyncDone(None), SyncStarted()]
    assert len(asks(out)) == 1
    assert asks(c.sync_soon()) == []  # still running: once more after it
    out = c.answered(asks(out)[0].ticket, page())
    assert isinstance(asks(out)[0].body, SyncReq)


def test_a_sync_asked_after_a_failed_pass_does_not_follow_it() -> None:
    c = with_list(5)
    (ask,) = asks(c.start())
    c.sync_soon()
    out = c.failed(ask.ticket, ConnectionLostError())
    assert asks(out) == []
    assert not c.running


def test_a_new_connection_abandons_the_pass_of_the_old_one() -> None:
    c = with_list(5)
    (old,) = asks(c.start())
    (new,) = asks(c.start())
    assert c.answered(old.ticket, page(snap(9))) == []  # dropped
    assert c.delivered[BOB] == 5
    assert c.answered(new.ticket, page())[-1] == SyncDone(None)


def test_a_pushed_snapshot_older_than_the_list_changes_nothing() -> None:
    c = with_list(5)
    assert c.on_snapshots([snap(3, pos=1)]) == []


# --- a full pass and the pushes that race it ----------------------------------------------------
def test_a_push_counted_in_the_page_as_history_is_still_announced_once() -> None:
    c = core()
    (ask,) = asks(c.start())
    c.answered(ask.ticket, page(snap(12), cursor=FULL_TOKEN, more=True))
    out = [*c.on_push(msg(11)), *c.on_push(msg(12)), *c.on_push(msg(12)), *c.on_push(msg(13))]
    assert delivered_ids(out) == ["bob-11", "bob-12", "bob-13"]
    assert c.delivered[BOB] == 13


def test_a_push_before_its_page_waits_for_it_and_no_history_is_announced() -> None:
    c = core()
    (ask,) = asks(c.start())
    assert c.on_push(msg(11)) == []
    assert c.fillers == {}
    out = c.answered(ask.ticket, page(snap(11), cursor=FULL_TOKEN, more=True))
    assert delivered_ids(out) == ["bob-11"]


def test_outside_a_full_pass_a_delivered_seq_is_a_duplicate() -> None:
    c = with_list(12)
    assert c.on_push(msg(11)) == []
    assert c.on_push(msg(12)) == []


def test_a_conversation_first_seen_in_the_incremental_tail_of_a_first_run_replays_nothing() -> None:
    c = core(tok=FULL_TOKEN)
    (ask,) = asks(c.start())
    out = c.answered(ask.ticket, page(snap(12)))  # changed after the pass's horizon
    assert asks(out) == []
    assert delivered_ids(c.on_push(msg(12))) == ["bob-12"]


def test_a_push_sent_here_and_counted_as_history_is_not_announced() -> None:
    c = core()
    (ask,) = asks(c.start())
    c.answered(ask.ticket, page(snap(3), cursor=FULL_TOKEN, more=True))
    mine = msg(3, sender=ME)
    assert c.sent_here(mine) == []
    assert c.on_push(mine) == []


# --- resyncs --------------------------------------------------------------------------------------
def synced(*convs: Conversation, db: int = 1) -> SyncCore:
    c = core(tok=token(db=db))
    c.convs.apply(list(convs))
    c.delivered.update({(x.conv_type, x.conv_id): x.max_seq for x in convs})
    return c


def test_a_new_database_identity_resyncs_and_realigns_by_msg_id() -> None:
    """The server was restored from a backup taken after 2: the device had 1..4 (one, 2, it
    also cached); the server's new history goes on from 2 with 3', 4', 5'."""
    c = synced(snap(4), snap(2, G))
    server = FakeServer(c)
    server.add(msg(1), msg(2), *(msg(s, msg_id=f"new-{s}", time=100 + s) for s in (3, 4, 5)))
    server.cached[BOB] = [msg(1), msg(2)]
    out = c.start(server_db_id=2)
    assert c.resyncs == 1
    assert c.delivered == {}
    (ask,) = asks(out)
    assert ask.body == SyncReq(cursor="")
    assert c.full_passes == 1
    new_last = msg(5, msg_id="new-5", time=105)
    out = server.pump(c.answered(ask.ticket, page(snap(5, pos=3, last=new_last))))
    assert Save([], INC) in out  # the token is kept once the resync is complete
    assert delivered_ids(out) == ["new-3", "new-4", "new-5"]
    assert c.convs.cached(*G) is None  # the server does not have it
    assert DropCached([G]) in out
    assert any(isinstance(a, ReadCached) for a in out)


def test_a_token_the_server_refuses_resyncs_once() -> None:
    c = synced(snap(4))
    (ask,) = asks(c.start())
    out = c.answered(ask.ticket, page(snap(4, pos=2), reset=True, cursor=FULL_TOKEN, more=True))
    assert c.resyncs == 1
    assert c.full_passes == 1
    assert Save([snap(4, pos=2)], None) in out  # no token until the resync is complete
    (ask,) = asks(out)
    out = c.answered(ask.ticket, page(snap(4, pos=3), reset=True))
    assert c.resyncs == 1
    assert delivered_ids(out) == []
    assert c.delivered[BOB] == 4
    assert DropCached([BOB]) not in out


def test_a_resync_page_seen_twice_orders_the_second_by_position() -> None:
    c = synced(snap(4))
    (ask,) = asks(c.start(server_db_id=2))
    out = c.answered(ask.ticket, page(snap(4, pos=2), cursor=FULL_TOKEN, more=True))
    c.answered(asks(out)[0].ticket, page(snap(4, pos=1)))
    assert c.convs.cached(*BOB).pos == 2  # type: ignore[union-attr]


def test_a_push_during_a_resync_waits_for_the_conversations_page() -> None:
    c = synced(snap(4))
    server = FakeServer(c)
    server.add(*(msg(s) for s in range(1, 7)))
    (ask,) = asks(c.start(server_db_id=2))
    assert c.on_push(msg(6)) == []
    assert c.on_snapshots([snap(6, pos=9)]) == []
    assert c.targets[BOB] == 6
    out = server.pump(c.answered(ask.ticket, page(snap(5, last=msg(4)))))
    assert delivered_ids(out) == ["bob-6"]


def test_a_conversation_sent_to_during_a_resync_but_not_in_its_pages_is_learnt() -> None:
    c = synced(snap(4))
    server = FakeServer(c)
    carol = (1, "carol")
    mine = msg(2, carol, sender=ME)
    server.add(msg(1, carol), mine)
    server.snaps[carol] = snap(2, carol)
    (ask,) = asks(c.start(server_db_id=2))
    assert c.sent_here(mine) == []  # its page will tell (none comes: it came after)
    out = server.pump(c.answered(ask.ticket, page(snap(4, pos=5))))
    assert delivered_ids(out) == ["carol-1"]


def test_a_conversation_below_what_was_delivered_is_checked_and_realigned() -> None:
    last = msg(10)
    c = synced(snap(10, last=last))
    server = FakeServer(c)
    server.add(*(msg(s) for s in range(1, 9)), msg(9, msg_id="other-9", time=50))
    server.snaps[BOB] = snap(9, pos=200, last=msg(9, msg_id="other-9", time=50))
    server.cached[BOB] = [msg(7), msg(8)]
    (ask,) = asks(c.start())
    out = server.pump(c.answered(ask.ticket, page(snap(9, pos=200))))
    assert server.asked == ["conv_get", "history", "catch_up"]
    assert c.resyncs == 1
    assert delivered_ids(out) == ["other-9"]
    assert DropCached([BOB]) not in out  # the cache ends where the histories meet


def test_a_snapshot_below_delivered_with_the_same_history_changes_nothing() -> None:
    c = synced(snap(10))
    server = FakeServer(c)
    server.snaps[BOB] = snap(10)
    (ask,) = asks(c.start())
    out = server.pump(c.answered(ask.ticket, page(snap(9, pos=5))))
    assert c.resyncs == 0
    assert delivered_ids(out) == []


def test_a_replaced_filler_neither_delivers_nor_unregisters_its_successor() -> None:
    """The catch-up filler's cleanup used to remove the filler that replaced it."""
    c = with_list(10)
    (old,) = asks(c.on_push(msg(12)))
    (sync,) = asks(c.start())
    (check,) = asks(c.answered(sync.ticket, page(snap(9, pos=1))))
    assert check.op == "conv_get"
    successor = c.fillers[BOB]
    assert c.failed(old.ticket, ConnectionLostError()) == []
    assert c.answered(old.ticket, HistoryRes(msgs=[msg(11), msg(12)])) == []
    assert c.fillers[BOB] is successor
    out = c.answered(check.ticket, ConvsRes(convs=[snap(12)]))
    (catch_up,) = asks(out)
    assert catch_up.body.after_seq == 10  # type: ignore[attr-defined]


def test_a_check_that_finds_no_conversation_goes_on_filling() -> None:
    c = with_list(10)
    (sync,) = asks(c.start())
    (check,) = asks(c.answered(sync.ticket, page(snap(9, pos=1))))
    assert c.answered(check.ticket, ConvsRes(convs=[])) == []
    assert c.fillers == {}


@pytest.mark.parametrize("short", [True, False])
def test_realigning_reads_a_bounded_history_when_nothing_meets(short: bool) -> None:
    c = synced(snap(10))
    (sync,) = asks(c.start())
    (check,) = asks(c.answered(sync.ticket, page(snap(5, pos=1))))
    fresh = snap(5, pos=300, last=msg(5, msg_id="x", time=999))
    (read,) = [
        a for a in c.answered(check.ticket, ConvsRes(convs=[fresh])) if isinstance(a, ReadCached)
    ]
    out = c.answered(read.ticket, [])
    pages = 0
    while asks(out) and isinstance(asks(out)[0].body, HistoryReq):
        (ask,) = asks(out)
        pages += 1
        n = 3 if short else CATCH_UP_PAGE
        top = ask.body.before_seq or 10_000  # type: ignore[attr-defined]
        older = [msg(top - i - 1, msg_id=f"y{top - i}", time=999) for i in range(n)]
        out = c.answered(ask.ticket, HistoryRes(msgs=older))
    assert pages == (1 if short else REALIGN_PAGES)
    assert DropCached([BOB]) in out
    if short:  # every message the user may see is new here: from the start
        (ask,) = asks(out)
        assert isinstance(ask.body, CatchUpReq)
        assert ask.body.after_seq == 0
    else:  # the oldest page read is where it gives up: what the server has beyond is new
        assert asks(out) == []
        assert c.delivered[BOB] == 5


def test_resync_realign_rules() -> None:
    """Which conversations a resync reads back: not one whose last message this device sent or
    already had, nor one older than what it had, nor an empty one."""
    sent = msg(3, sender=ME, msg_id="sent")
    had = msg(3, msg_id="had", time=10)
    c = synced(snap(3, last=had), snap(3, (1, "old"), last=msg(3, (1, "old"), time=50)))
    c.sent_here(sent)
    (ask,) = asks(c.start(server_db_id=2))
    out = c.answered(
        ask.ticket,
        page(
            snap(3, last=had),
            snap(3, (1, "old"), last=msg(3, (1, "old"), msg_id="older", time=40)),
            snap(3, (1, "mine"), last=sent),
            snap(0, (1, "empty")),
        ),
    )
    assert asks(out) == []
    assert c.resyncs == 1
    assert DropCached([(1, "old")]) in out


def test_reset_forgets_the_user() -> None:
    c = with_list(5)
    c.on_push(msg(9))
    c.reset()
    assert c.delivered == {}
    assert c.fillers == {}
    assert c.targets == {}
    assert not c.busy


def test_recent_ids_keep_the_last_ones() -> None:
    ids = RecentIds(2)
    for i in ["a", "b", "a", "c"]:
        ids.add(i)
    assert "a" not in ids
    assert "b" in ids
    assert "c" in ids
    ids.clear()
    assert "b" not in ids


def test_tokens_parse() -> None:
    assert parse_token("").phase == FRESH
    assert msgspec.structs.replace(snap(1), pos=5).pos == 5
    assert Ask(1, "x", SyncReq(), SyncRes).ticket == 1


def test_a_list_attached_later_is_the_one_kept_current() -> None:
    bare = SyncCore(user_id=ME)
    bare.convs = FakeList()
    bare.delivered[BOB] = 0
    bare.convs.apply([snap(0)])
    assert delivered_ids(bare.on_push(msg(1))) == ["bob-1"]


def test_a_sync_asked_while_none_runs_starts_one() -> None:
    c = with_list(5)
    out = c.sync_soon()
    assert isinstance(out[0], SyncStarted)
    assert len(asks(out)) == 1


def test_a_check_of_a_conversation_that_had_no_message_realigns_from_the_start() -> None:
    c = synced(snap(3, last=None))
    c.convs.apply([msgspec.structs.replace(snap(3), last_msg=None, pos=9)], force=True)
    server = FakeServer(c)
    server.add(msg(1, msg_id="n1"), msg(2, msg_id="n2"))
    server.snaps[BOB] = snap(2, pos=50, last=msg(2, msg_id="n2"))
    (ask,) = asks(c.start())
    out = server.pump(c.answered(ask.ticket, page(snap(2, pos=50))))
    assert delivered_ids(out) == ["n1", "n2"]


def test_a_resync_page_with_messages_new_here_reads_the_cache_back_first() -> None:
    c = synced(snap(4, last=msg(4, time=1)))
    (sync,) = asks(c.start(server_db_id=2))
    out = c.answered(sync.ticket, page(snap(9, last=msg(9, msg_id="z", time=99)), more=True))
    assert [a.op for a in asks(out)] == ["conv_sync"]
    assert [a.key for a in out if isinstance(a, ReadCached)] == [BOB]
    assert c.targets[BOB] == 9


def test_a_cache_that_does_not_end_where_the_histories_meet_is_dropped() -> None:
    c = synced(snap(10, last=msg(10, time=10)))
    server = FakeServer(c)
    server.add(*(msg(s) for s in range(1, 8)), msg(8, msg_id="other-8", time=50))
    server.snaps[BOB] = snap(8, pos=200, last=msg(8, msg_id="other-8", time=50))
    server.cached[BOB] = [msg(6), msg(7), msg(9)]  # 9 was only here
    (ask,) = asks(c.start())
    out = server.pump(c.answered(ask.ticket, page(snap(8, pos=200))))
    assert DropCached([BOB]) in out
    assert delivered_ids(out) == ["other-8"]


def test_a_snapshot_arriving_while_a_conversation_is_learnt_sets_where_it_starts() -> None:
    c = core(tok=INC)
    (learn,) = asks(c.on_push(msg(3)))
    out = c.on_snapshots([snap(3, pos=30)])  # new here: delivered from its start
    assert asks(out) == []  # the learning filler fills it
    out = c.answered(learn.ticket, ConvsRes(convs=[snap(3, pos=30)]))
    (catch_up,) = asks(out)
    assert catch_up.body.after_seq == 0  # type: ignore[attr-defined]
    out = c.answered(catch_up.ticket, HistoryRes(msgs=[msg(1), msg(2), msg(3)]))
    assert delivered_ids(out) == ["bob-1", "bob-2", "bob-3"]


def test_messages_in_a_catch_up_answer_already_delivered_are_not_again() -> None:
    c = with_list(5)
    (ask,) = asks(c.on_push(msg(7)))
    out = c.answered(ask.ticket, HistoryRes(msgs=[msg(5), msg(6), msg(7)]))
    assert delivered_ids(out) == ["bob-6", "bob-7"]


def test_forgetting_the_user_abandons_the_running_pass() -> None:
    c = with_list(5)
    (ask,) = asks(c.start())
    c.sync_soon()
    c.forget()
    assert not c.running
    assert c.delivered == {}
    assert c.answered(ask.ticket, page(snap(9))) == []
    assert c.convs.cached(*BOB).max_seq == 5  # type: ignore[union-attr]
    c.forget()  # nothing running: nothing to abandon
    assert not c.busy
