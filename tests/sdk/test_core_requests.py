"""Request ids and the answers matched to them, without a socket."""

from __future__ import annotations

import msgspec

from opentim.protocol import ErrorCode, Request, Response, raw
from opentim.protocol.codec import decode_envelope
from opentim.protocol.ops import Empty, ProfileGetReq, ProfilesRes
from opentim.sdk.core import Answer, Requests
from opentim.sdk.exceptions import SdkError


def test_ids_are_unique_across_connections_and_frames_carry_them() -> None:
    reqs = Requests()
    first = reqs.connected()
    a, frame = reqs.open("ping", Empty(), Empty, first)
    second = reqs.connected()
    b, _ = reqs.open("ping", Empty(), Empty, second)
    assert a != b
    assert second == first + 1 == reqs.link
    req = decode_envelope(frame)
    assert isinstance(req, Request)
    assert (req.id, req.op) == (a, "ping")


def test_an_answer_is_decoded_as_its_request_said_and_matched_once() -> None:
    reqs = Requests()
    link = reqs.connected()
    req_id, _ = reqs.open("profile_get", ProfileGetReq(user_ids=["a"]), ProfilesRes, link)
    res = Response(id=req_id, body=raw(ProfilesRes(profiles=[])))
    assert reqs.answer(res, link) == Answer(req_id, ProfilesRes(profiles=[]), None)
    assert reqs.answer(res, link) is None  # answered already
    assert reqs.pending == {}


def test_unknown_ids_and_late_answers_are_dropped() -> None:
    reqs = Requests()
    link = reqs.connected()
    assert reqs.answer(Response(id=42), link) is None
    req_id, _ = reqs.open("ping", Empty(), Empty, link)
    reqs.forget(req_id)  # its caller gave up (a timeout)
    assert reqs.answer(Response(id=req_id), link) is None


def test_an_answer_on_another_connection_is_not_the_answer() -> None:
    reqs = Requests()
    old = reqs.connected()
    req_id, _ = reqs.open("ping", Empty(), Empty, old)
    new = reqs.connected()
    assert reqs.answer(Response(id=req_id), new) is None
    assert req_id in reqs.pending


def test_a_lost_connection_fails_its_own_requests_only() -> None:
    reqs = Requests()
    old = reqs.connected()
    a, _ = reqs.open("ping", Empty(), Empty, old)
    new = reqs.connected()
    b, _ = reqs.open("ping", Empty(), Empty, new)
    assert reqs.lost(old) == [a]
    assert list(reqs.pending) == [b]
    assert reqs.answer(Response(id=a), old) is None  # after reconnecting: too late


def test_error_frames_and_bodies_that_do_not_decode_become_errors() -> None:
    reqs = Requests()
    link = reqs.connected()
    req_id, _ = reqs.open("ping", Empty(), Empty, link)
    answer = reqs.answer(Response(id=req_id, code=6014, desc="not logged in"), link)
    assert answer is not None
    assert answer.body is None
    assert isinstance(answer.error, SdkError)
    assert answer.error.code == 6014
    req_id, _ = reqs.open("profile_get", ProfileGetReq(user_ids=[]), ProfilesRes, link)
    bad = Response(id=req_id, body=msgspec.Raw(b'{"profiles": 3}'))
    answer = reqs.answer(bad, link)
    assert answer is not None
    assert answer.error is not None
    assert answer.error.code == ErrorCode.ERR_PARSE_RESPONSE_FAILED
