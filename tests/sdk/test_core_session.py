"""The session core's frames in, actions out: answers, and the push table."""

from __future__ import annotations

from opentim.protocol import GroupReport, Push, ReportType, Response, encode, raw
from opentim.protocol.ops import (
    ConvGroupChange,
    ConvGroupPush,
    ConvPush,
    Empty,
    GroupReportPush,
    KickedPush,
    MsgPush,
    ReadPush,
    RevokePush,
    SigExpiredPush,
)
from opentim.sdk.core import (
    Answer,
    ClientSession,
    Deliver,
    Effect,
    GroupChanged,
    GroupReported,
    LinkAction,
    LinkEvent,
    ReadReceipt,
    Revoked,
    SyncStarted,
)
from opentim.sdk.core.session import PUSHES

from .core_helpers import BOB, ME, FakeList, msg, snap


def online() -> tuple[ClientSession, int]:
    session = ClientSession(FakeList())
    session.user_id = ME
    session.handle(LinkEvent.LOGIN)
    link = session.connecting()
    assert [a.effect for a in session.logged_in(7)] == [Effect.SYNC]
    assert session.server_db_id == 7
    assert session.user_id == ME
    session.sync.convs.apply([snap(5)])
    session.sync.delivered[BOB] = 5
    return session, link


def push(kind: str, body: object) -> bytes:
    return encode(Push(kind=kind, body=raw(body)))  # type: ignore[arg-type]


def test_an_answer_frame_resolves_its_request() -> None:
    session, link = online()
    req_id, _ = session.requests.open("ping", Empty(), Empty, link)
    assert list(session.receive(encode(Response(id=req_id)), link)) == [
        Answer(req_id, Empty(), None)
    ]
    assert not session.receive(encode(Response(id=req_id)), link)


def test_frames_that_do_not_decode_and_unknown_pushes_are_dropped() -> None:
    session, link = online()
    assert not session.receive(b"not json", link)
    assert not session.receive(push("nope", Empty()), link)


def test_each_push_has_its_action() -> None:
    session, link = online()
    m = msg(6)
    assert session.receive(push("msg", MsgPush(msg=m)), link) == [Deliver(BOB, m, True)]
    assert session.receive(push("conv", ConvPush(convs=[snap(6, pos=60)])), link) == []
    assert session.receive(push("revoke", RevokePush(msg=m, pos=9)), link) == [Revoked(m, 9)]
    read = ReadPush(reader="bob", seq=6, time=1)
    assert session.receive(push("read", read), link) == [ReadReceipt(read)]
    change = ConvGroupChange(kind="created", name="work")
    got = session.receive(push("cgroup", ConvGroupPush(change=change)), link)
    assert got == [GroupChanged(change)]
    kicked = session.receive(push("kicked", KickedPush(code=6208, desc="replaced")), link)
    assert kicked == [LinkAction(Effect.KICKED, code=6208, desc="replaced")]
    assert session.receive(push("sig_expired", SigExpiredPush(code=70001, desc="x")), link) == []


def test_an_expired_usersig_drops_the_connection() -> None:
    session, link = online()
    got = session.receive(push("sig_expired", SigExpiredPush(code=70001, desc="x")), link)
    assert [a.effect for a in got] == [Effect.DROP, Effect.SIG_EXPIRED]


def test_the_push_table_covers_every_push_the_protocol_knows() -> None:
    from opentim.protocol.ops import PUSHES as KINDS

    assert set(PUSHES) == set(KINDS.values())


def test_the_sync_behind_a_login_names_the_servers_database() -> None:
    session, _ = online()
    session.sync.token = ""
    out = session.start_sync()
    assert isinstance(out[0], SyncStarted)
    assert session.sync.running


def test_a_group_report_push_is_handed_to_the_app() -> None:
    session, link = online()
    report = GroupReport(report_type=ReportType.ADD_REQUEST, group_id="g", op_user="carol")
    got = session.receive(push("group_report", GroupReportPush(report=report)), link)
    assert got == [GroupReported(report)]
