"""What the upgrade fixtures hold, and how a user's view of them is summed up for comparison.

Used by make_fixtures.py (run against the previous release, so only its public SDK API is used
here) and by test_upgrade.py (run against today's code): both describe a user's conversations
with ``view()``, and the tests compare today's view with the one the previous release recorded.
"""

from __future__ import annotations

import time
from typing import Any

from opentim.protocol import ConvType, Draft, GroupType, Mark
from opentim.sdk import Client

SECRET_KEY = "opentim-upgrade-fixture-key"
PG_SCHEMA = "opentim_upgrade_prev"
"""The schema name in postgres.sql; the tests restore it under a name of their own."""
CACHED_USER = "alice"
USERS = ("alice", "bob", "carol")
GROUP_ID = "team"
CONV_GROUP = "friends"
APP_MARK = 1 << 32
DRAFT_TEXT = "draft to carol"
QUEUED_TEXT = "queued while offline"
"""The message left in alice's outbox: the upgraded SDK must send it."""


def text(value: str) -> list[dict[str, Any]]:
    return [{"elem_type": 0, "text_elem_content": value}]


def texts(elems: list[dict[str, Any]]) -> str:
    return " ".join(str(e.get("text_elem_content", f"<{e.get('elem_type')}>")) for e in elems)


async def play(clients: dict[str, Client]) -> None:
    """The history: C2C and group chat, read positions, drafts, a pin, marks, custom data and a
    conversation group."""
    alice, bob, carol = (clients[u] for u in USERS)
    c2c, group = ConvType.C2C, ConvType.GROUP
    await alice.messages.send_text(c2c, "bob", "hi bob")
    first = await bob.messages.send_text(c2c, "alice", "hi alice")
    await bob.messages.send_text(c2c, "alice", "how are you?")
    await alice.groups.create(
        "The team", GroupType.PRIVATE, group_id=GROUP_ID, members=["bob", "carol"]
    )
    await alice.messages.send_text(group, GROUP_ID, "welcome")
    await bob.messages.send_text(group, GROUP_ID, "thanks")
    await carol.messages.send_text(group, GROUP_ID, "hello all")
    await carol.messages.send_text(c2c, "alice", "ping from carol")
    # Read positions: alice has read bob's first reply only, and the group so far.
    await alice.conversations.mark_read(c2c, "bob", first.seq)
    await alice.conversations.mark_read(group, GROUP_ID)
    await bob.messages.send_text(group, GROUP_ID, "later")
    await bob.conversations.mark_read(c2c, "alice")
    draft = Draft(
        msg={"message_elem_array": text(DRAFT_TEXT)},
        user_define="ud-carol",
        edit_time=int(time.time()),
    )
    await alice.conversations.set_draft(c2c, "carol", draft)
    await bob.conversations.set_draft(
        group, GROUP_ID, Draft(msg={"message_elem_array": text("bob's draft")}, edit_time=1)
    )
    await alice.conversations.pin(group, GROUP_ID, True)
    await alice.conversations.mark([(c2c, "bob")], Mark.STAR, True)
    await alice.conversations.mark([(c2c, "bob")], APP_MARK, True)
    await alice.conversations.set_custom_data([(c2c, "bob")], "custom-bob")
    await alice.conversations.create_group(CONV_GROUP, [(c2c, "bob"), (c2c, "carol")])


def view(client: Client) -> dict[str, Any]:
    """A user's conversation list as content: what must survive an upgrade."""
    convs = []
    for conv in client.conversations.list(include_hidden=True):
        draft = None
        if conv.draft is not None:
            draft = {"msg": conv.draft.msg, "user_define": conv.draft.user_define}
        last = conv.last_msg
        convs.append(
            {
                "conv_type": conv.conv_type,
                "conv_id": conv.conv_id,
                "unread": conv.unread,
                "read_seq": conv.read_seq,
                "max_seq": conv.max_seq,
                "pinned": conv.pinned,
                "marks": conv.marks,
                "custom_data": conv.custom_data,
                "groups": sorted(conv.groups),
                "draft": draft,
                "last_msg": None
                if last is None
                else {"seq": last.seq, "sender": last.sender, "text": texts(last.elems)},
            }
        )
    return {
        "convs": convs,
        "total_unread": client.conversations.total_unread(),
        "conv_groups": client.conversations.group_names(),
    }


async def history(client: Client) -> dict[str, list[list[Any]]]:
    """Every conversation's stored messages, oldest first, as ``[seq, sender, text]``."""
    out: dict[str, list[list[Any]]] = {}
    for conv in client.conversations.list(include_hidden=True):
        msgs = await client.messages.history(conv.conv_type, conv.conv_id, count=100)
        out[f"{conv.conv_type}:{conv.conv_id}"] = [
            [m.seq, m.sender, texts(m.elems)] for m in reversed(msgs) if not m.is_tips
        ]
    return out
