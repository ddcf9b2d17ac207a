"""TIMMsgModifyMessage with Tencent's JSON keys, as an app calls it: the modified Message in
the callback, TIMMsgUpdateCallback on every device of every participant, the conversation's
last message, 8006 for a change from an older ``message_version``, the elements that may not
change, a group outsider refused; history brings the modified version. Every JSON emitted is
checked against the header's keys (conformance.py)."""

from __future__ import annotations

import json
from typing import Any

from opentim.tim import keys as k
from opentim.tim.extensions import MESSAGE_VERSION

from .conftest import Tim

BOTH_ENGINES = True

C2C, GROUP = k.kTIMConv_C2C, k.kTIMConv_Group
CONFLICT, BAD_ELEM, NOT_MEMBER = 8006, 6016, 10007


def with_text(msg: dict[str, Any], text: str, **extra: Any) -> str:
    changed = {
        **msg,
        k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: text}],
    }
    return json.dumps({**changed, **extra})


def text_of(msg: dict[str, Any]) -> str:
    return str(msg[k.MESSAGE_ELEM_ARRAY][0][k.TEXT_ELEM_CONTENT])


def test_modify_reaches_every_device_of_both_users_and_the_last_message(make_tim: Any) -> None:
    alice, alice2, bob = make_tim("alice"), make_tim("alice", device="a2"), make_tim("bob")
    sent = alice.send_text("bob", C2C, "helo")
    assert sent[MESSAGE_VERSION] == 0
    bob.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    marks = {t: t.updated.mark() for t in (alice2, bob)}
    param = with_text(sent, "hello", **{k.MESSAGE_CLOUD_CUSTOM_STR: "quoted"})
    done = alice.ok("TIMMsgModifyMessage", param)
    assert (text_of(done), done[k.MESSAGE_CLOUD_CUSTOM_STR], done[MESSAGE_VERSION]) == (
        "hello",
        "quoted",
        1,
    )
    assert done[k.MESSAGE_SEQ] == sent[k.MESSAGE_SEQ]
    for tim in (alice2, bob):
        got = tim.updated.wait(
            lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID], since=marks[tim]
        )
        assert (text_of(got), got[MESSAGE_VERSION]) == ("hello", 1)
    conv = bob.conv("alice", C2C)
    assert conv is not None
    assert text_of(conv[k.CONV_LAST_MSG]) == "hello"
    assert conv[k.CONV_UNREAD_NUM] == 1, "a modification is not a new message"


def test_a_change_from_an_older_version_is_refused_with_8006(make_tim: Any) -> None:
    alice, bob = make_tim("alice"), make_tim("bob")
    sent = alice.send_text("bob", C2C, "v0")
    theirs = bob.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    assert bob.ok("TIMMsgModifyMessage", with_text(theirs, "bob's edit"))[MESSAGE_VERSION] == 1
    stale = alice.call("TIMMsgModifyMessage", with_text(sent, "alice's edit"))
    assert stale.code == CONFLICT
    fresh = alice.updated.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    assert text_of(fresh) == "bob's edit"
    assert text_of(alice.ok("TIMMsgModifyMessage", with_text(fresh, "agreed"))) == "agreed"


def test_an_image_stays_and_a_group_outsider_is_refused(make_tim: Any) -> None:
    owner, bob, eve = make_tim("owner"), make_tim("bob"), make_tim("eve")
    owner.create_group("g", ["bob"])
    sent = owner.send_text("g", GROUP, "agenda")
    image = [{k.ELEM_TYPE: k.kTIMElem_Image, k.IMAGE_ELEM_ORIG_PATH: "x.png"}]
    bad = owner.call("TIMMsgModifyMessage", json.dumps({**sent, k.MESSAGE_ELEM_ARRAY: image}))
    assert bad.code == BAD_ELEM
    assert eve.call("TIMMsgModifyMessage", with_text(sent, "defaced")).code == NOT_MEMBER
    mark = owner.updated.mark()
    theirs = bob.messages.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID])
    assert text_of(bob.ok("TIMMsgModifyMessage", with_text(theirs, "agenda v2"))) == "agenda v2"
    got = owner.updated.wait(lambda m: m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID], since=mark)
    assert got[k.MESSAGE_SENDER] == "owner"
    param = {
        k.MSG_GETMSGLIST_PARAM_COUNT: 10,
    }
    history = owner.ok("TIMMsgGetMsgList", "g", GROUP, json.dumps(param))
    (found,) = [m for m in history if m[k.MESSAGE_MSG_ID] == sent[k.MESSAGE_MSG_ID]]
    assert (text_of(found), found[MESSAGE_VERSION]) == ("agenda v2", 1)


def test_bad_input_is_refused_on_the_callers_thread(make_tim: Any) -> None:
    alice: Tim = make_tim("alice")
    ret, _ = alice.start("TIMMsgModifyMessage", "{")
    assert ret == k.TIM_ERR_JSON
    ret, _ = alice.start("TIMMsgModifyMessage", json.dumps({k.MESSAGE_CONV_ID: "bob"}))
    assert ret != k.TIM_SUCC
