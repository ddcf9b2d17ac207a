"""``opentim demo``: an embedded server and three users chatting through the TIM API.

The server runs in a temporary directory on its own thread; alice, bob and carol each get a
``TIMSDK`` instance (their own SDK thread), exactly as three apps would. The script waits on
callbacks and events, never on the clock. It prints the chat as it happens, then each user's
conversation list as a table (unread, pinned, draft, last message) and total unread; with
``--json``, each list as ``TIMConvGetConvList`` gives it (ConvInfo JSON).
"""

from __future__ import annotations

import asyncio
import json
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from opentim.protocol import elems_text, make_usersig
from opentim.server.app import Server
from opentim.server.config import DEFAULT_SDKAPPID, ServerConfig
from opentim.tim import TIMSDK, keys as k
from opentim.tim.extensions import SDK_CONFIG_SERVER_URL

TIMEOUT = 15.0
C2C, GROUP = 1, 2


class DemoError(RuntimeError):
    """A step of the demo failed."""


def _call(start: Callable[[Callable[..., None]], int], what: str) -> str:
    """Run one TIM call and wait for its callback; return its JSON or raise with its code."""
    answers: queue.Queue[tuple[int, str, str]] = queue.Queue()
    rc = start(lambda code, desc, json_param, user_data: answers.put((code, desc, json_param)))
    if rc != 0:
        raise DemoError(f"{what}: returned {rc}")
    try:
        code, desc, json_param = answers.get(timeout=TIMEOUT)
    except queue.Empty as exc:
        raise DemoError(f"{what}: no callback") from exc
    if code != 0:
        raise DemoError(f"{what}: {code} {desc}")
    return json_param


class User:
    """One app: a TIMSDK instance logged in as ``user_id``."""

    def __init__(self, user_id: str, url: str, key: str, data_dir: Path) -> None:
        self.user_id = user_id
        self.sdk = TIMSDK()
        self.changed = threading.Event()
        config = {
            SDK_CONFIG_SERVER_URL: url,
            k.SDK_CONFIG_CONFIG_FILE_PATH: str(data_dir / user_id),
        }
        self.sdk.TIMInit(DEFAULT_SDKAPPID, json.dumps(config))
        self.sdk.TIMSetConvEventCallback(lambda event, convs, user_data: self.changed.set(), None)
        sig = make_usersig(key, DEFAULT_SDKAPPID, user_id, int(time.time()))
        _call(lambda cb: self.sdk.TIMLogin(user_id, sig, cb, None), f"{user_id} login")

    def conv_list(self) -> list[dict[str, Any]]:
        got = _call(lambda cb: self.sdk.TIMConvGetConvList(cb, None), "conversation list")
        convs: list[dict[str, Any]] = json.loads(got)
        return convs

    def total_unread(self) -> int:
        got = _call(lambda cb: self.sdk.TIMConvGetTotalUnreadMessageCount(cb, None), "total")
        total: int = json.loads(got)[k.CONV_GET_TOTAL_UNREAD_MESSAGE_COUNT_RESULT_UNREAD_COUNT]
        return total

    def wait_for(self, condition: Callable[[list[dict[str, Any]]], bool]) -> None:
        """Wait until the conversation list satisfies ``condition`` (re-checked on each event)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            self.changed.clear()
            if condition(self.conv_list()):
                return
            if not self.changed.wait(max(0.0, deadline - time.monotonic())):
                raise DemoError(f"{self.user_id}: the list never got there")

    def send(self, conv_id: str, conv_type: int, text: str, say: Callable[[str], None]) -> None:
        say(f"{self.user_id} → {conv_id}: {text}")
        msg = {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: text}]}
        _call(
            lambda cb: self.sdk.TIMMsgSendMessage(
                conv_id, conv_type, json.dumps(msg), None, cb, None
            ),
            f"{self.user_id} sends",
        )

    def close(self) -> None:
        _call(lambda cb: self.sdk.TIMLogout(cb, None), f"{self.user_id} logout")
        self.sdk.TIMUninit()


def _unread(convs: list[dict[str, Any]], conv_id: str) -> int:
    return next((c[k.CONV_UNREAD_NUM] for c in convs if c[k.CONV_ID] == conv_id), -1)


def _text(msg: dict[str, Any]) -> str:
    elems = msg.get(k.MESSAGE_ELEM_ARRAY)
    return elems_text(elems) if isinstance(elems, list) else ""


def conv_table(user_id: str, convs: list[dict[str, Any]], total_unread: int) -> Table:
    """One user's conversation list as a table, in the list's order."""
    table = Table(title=f"{user_id}: {len(convs)} conversations, {total_unread} unread")
    for column in ("conversation", "unread", "pinned", "draft", "last message"):
        table.add_column(column, justify="right" if column == "unread" else "left")
    for conv in convs:
        name = conv.get(k.CONV_SHOW_NAME) or conv[k.CONV_ID]
        kind = "group" if conv[k.CONV_TYPE] == GROUP else "C2C"
        last = conv.get(k.CONV_LAST_MSG) if conv.get(k.CONV_IS_HAS_LASTMSG) else None
        draft = conv.get(k.CONV_DRAFT) if conv.get(k.CONV_IS_HAS_DRAFT) else None
        table.add_row(
            f"{name} ({kind})",
            str(conv[k.CONV_UNREAD_NUM]),
            "yes" if conv.get(k.CONV_IS_PINNED) else "",
            _text(draft.get(k.DRAFT_MSG) or {}) if draft else "",
            f"{last[k.MESSAGE_SENDER]}: {_text(last)}" if last else "",
        )
    return table


def run_demo(json_output: bool = False) -> None:
    """Run the scripted chat and print what each user sees: tables, or TIM JSON."""
    console = Console(highlight=False)

    def say(line: str) -> None:
        if not json_output:
            console.print(line, soft_wrap=True)

    with tempfile.TemporaryDirectory(prefix="opentim-demo-") as tmp:
        root = Path(tmp)
        loop = asyncio.new_event_loop()
        server = Server(ServerConfig(port=0, data_dir=root / "server"))
        thread = threading.Thread(target=loop.run_forever, name="opentim-demo-server", daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(TIMEOUT)
        say(f"opentim listening on {server.url} (data in {root})")
        users: list[User] = []
        try:
            key = server.secret_key()
            alice, bob, carol = (User(u, server.url, key, root) for u in ("alice", "bob", "carol"))
            users = [alice, bob, carol]
            alice.send("bob", C2C, "Hi Bob, lunch today?", say)
            bob.send("alice", C2C, "Sure, at noon.", say)
            alice.send("bob", C2C, "Great, see you there.", say)
            param = {
                k.CREATE_GROUP_PARAM_GROUP_NAME: "Lunch club",
                k.CREATE_GROUP_PARAM_GROUP_ID: "lunch-club",
                k.CREATE_GROUP_PARAM_GROUP_TYPE: 1,
                k.CREATE_GROUP_PARAM_GROUP_MEMBER_ARRAY: [
                    {k.GROUP_MEMBER_INFO_IDENTIFIER: "bob"},
                    {k.GROUP_MEMBER_INFO_IDENTIFIER: "carol"},
                ],
            }
            _call(lambda cb: alice.sdk.TIMGroupCreate(json.dumps(param), cb, None), "group")
            say("alice creates the group lunch-club with bob and carol")
            carol.send("lunch-club", GROUP, "Count me in!", say)
            alice.send("lunch-club", GROUP, "Noon, usual place.", say)
            draft = {
                k.DRAFT_MSG: {
                    k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: 0, k.TEXT_ELEM_CONTENT: "Can I"}]
                },
                k.DRAFT_USER_DEFINE: "typing",
                k.DRAFT_EDIT_TIME: int(time.time()),
            }
            _call(lambda cb: carol.sdk.TIMConvCreate("alice", C2C, cb, None), "create")
            carol.sdk.TIMConvSetDraft("alice", C2C, json.dumps(draft))
            say("carol starts typing to alice: Can I (a draft)")
            _call(
                lambda cb: bob.sdk.TIMConvPinConversation("lunch-club", GROUP, True, cb, None),
                "pin",
            )
            say("bob pins lunch-club")
            bob.wait_for(lambda cs: _unread(cs, "alice") == 1 and _unread(cs, "lunch-club") == 2)
            carol.wait_for(
                lambda cs: (
                    _unread(cs, "lunch-club") == 1 and any(c.get(k.CONV_IS_HAS_DRAFT) for c in cs)
                )
            )
            alice.wait_for(lambda cs: _unread(cs, "lunch-club") == 0 and _unread(cs, "bob") == 0)
            for user in users:
                convs, total = user.conv_list(), user.total_unread()
                if json_output:
                    print(f"\n== {user.user_id}: TIMConvGetConvList")
                    print(json.dumps(convs, indent=2, ensure_ascii=False))
                    print(f"== {user.user_id}: total unread {total}")
                else:
                    console.print()
                    console.print(conv_table(user.user_id, convs, total))
        finally:
            for user in users:
                user.close()
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(TIMEOUT)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(TIMEOUT)
            loop.close()
