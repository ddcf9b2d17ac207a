"""Drafts made offline on a conversation the device does not have: shown at once, created on
the server when the edit goes out, and withdrawn if the server refuses it."""

from __future__ import annotations

import pytest

from opentim.protocol import ConvType, Draft
from opentim.sdk import Client, ConvEvent

from ..conftest import FAST, Login, sig
from ..faults import Proxy
from ..helpers import ids, until

pytestmark = pytest.mark.e2e
C2C = ConvType.C2C


async def test_an_offline_draft_on_a_new_conversation_shows_then_exists_everywhere(
    login: Login, proxy: Proxy
) -> None:
    await login("carol")
    other = await login("dave", device_id="desk")
    phone = Client(proxy.url, device_id="phone", reconnect_delay=FAST)
    await phone.login("dave", sig("dave"))
    await phone.wait_synced()
    events: list[tuple[ConvEvent, list[str]]] = []
    phone.events.conversations.add(
        lambda kind, convs: events.append((kind, [c.conv_id for c in convs]))
    )
    try:
        proxy.down = True
        proxy.cut()
        await until(phone, lambda: not phone.connected)
        await phone.conversations.set_draft(C2C, "carol", Draft(user_define="hi"))
        await phone.conversations.set_draft(C2C, "nobody-at-all", Draft(user_define="lost"))
        shown = phone.conversations.cached(C2C, "carol")
        assert shown is not None
        assert shown.draft is not None
        assert shown.draft.user_define == "hi", "at once, offline"
        assert events[:2] == [(ConvEvent.ADDED, ["carol"]), (ConvEvent.ADDED, ["nobody-at-all"])]

        proxy.down = False
        await until(other, lambda: "carol" in ids(other))
        there = other.conversations.cached(C2C, "carol")
        assert there is not None
        assert there.draft is not None
        assert there.draft.user_define == "hi"
        # The server refused the one for a user that does not exist: it goes here too.
        await until(phone, lambda: "nobody-at-all" not in ids(phone))
        assert (ConvEvent.DELETED, ["nobody-at-all"]) in events
        assert ids(phone) == ids(other) == ["carol"]
    finally:
        await phone.close()
