"""Fixtures for the TIM layer: a real server on 127.0.0.1 (port 0, SQLite file in tmp_path) in
its own thread and loop, and ``Tim`` handles that drive ``TIMSDK`` instances the way an app does:
synchronous calls, results awaited on ``threading.Event``s, never on sleeps.

Every callback and event the tests receive goes through the ``recorder``; after each test, all
of it is checked against the reference (conformance.py) and the test fails on any problem.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from opentim.protocol import make_usersig
from opentim.server.app import Server
from opentim.server.config import ServerConfig
from opentim.server.gateway.dispatch import Services
from opentim.tim import TIMSDK, keys as k

from ..services import temp_schema
from .conformance import AllFacts, Checker, Recorder, Tap

SECRET_KEY = "opentim-tim-tests"
SDKAPPID = 1400000000
TIMEOUT = 10.0
"""Seconds to wait for any one callback or event (a backstop: waits end as soon as it comes)."""


class ServerThread:
    """An opentim server running in its own thread and event loop."""

    def __init__(
        self, data_dir: Path, clock: Callable[[], float] = time.time, store: str = ""
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-server")
        self.server = Server(
            ServerConfig(port=0, data_dir=data_dir, secret_key=SECRET_KEY, store=store),
            clock=clock,
        )

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(TIMEOUT)

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(TIMEOUT)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(TIMEOUT)
            self.loop.close()

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self, act: Callable[[Services], Awaitable[object]]) -> object:
        """Run ``act(services)`` on the server's loop (an administrator's path)."""
        services = self.server.services
        assert services is not None
        return asyncio.run_coroutine_threadsafe(act(services), self.loop).result(TIMEOUT)

    @staticmethod
    def sig(user_id: str, *, now: int | None = None, expire: int = 86400) -> str:
        return make_usersig(
            SECRET_KEY, SDKAPPID, user_id, int(time.time()) if now is None else now, expire
        )


@dataclass
class Result:
    """What a TIMCommCallback received."""

    code: int
    desc: str
    json_params: str
    user_data: Any
    thread_id: int

    @property
    def value(self) -> Any:
        """The parsed JSON (None for an empty string)."""
        return json.loads(self.json_params) if self.json_params else None


class Stream:
    """Items appended from the SDK thread, waited for from the test's thread."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def append(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.items)

    def wait(self, pred: Callable[[Any], bool], since: int = 0, timeout: float = TIMEOUT) -> Any:
        """The first item at or after index ``since`` that satisfies ``pred``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            i = since
            while True:
                while i < len(self.items):
                    if pred(self.items[i]):
                        return self.items[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting; saw {self.items[since:]!r}")
                self._cond.wait(left)


@dataclass
class ConvEventItem:
    event: int
    json_conv_array: str
    thread_id: int

    @property
    def convs(self) -> list[dict[str, Any]]:
        return json.loads(self.json_conv_array) if self.json_conv_array else []

    def has(self, event: int, conv_id: str | None = None) -> bool:
        if self.event != event:
            return False
        return conv_id is None or any(c[k.CONV_ID] == conv_id for c in self.convs)


class Tim:
    """One ``TIMSDK`` instance, initialised against the test server, with recorded callbacks."""

    def __init__(
        self,
        server: ServerThread,
        recorder: Recorder,
        config_dir: Path,
        sdkappid: int = SDKAPPID,
    ) -> None:
        self.server = server
        self.recorder = recorder
        self.sdk = TIMSDK()
        self.user_id = ""
        self.conv_events = Stream()
        self.totals = Stream()
        self.messages = Stream()
        config = {
            k.SDK_CONFIG_CONFIG_FILE_PATH: str(config_dir),
            "sdk_config_server_url": server.url,
        }
        assert self.sdk.TIMInit(sdkappid, json.dumps(config)) == k.TIM_SUCC
        self.sdk.TIMSetConvEventCallback(
            recorder.wrap(
                "TIMConvEventCallback",
                lambda ev, js, ud: self.conv_events.append(
                    ConvEventItem(ev, js, threading.get_ident())
                ),
            ),
            self,
        )
        self.sdk.TIMSetConvTotalUnreadMessageCountChangedCallback(
            recorder.wrap(
                "TIMConvTotalUnreadMessageCountChangedCallback",
                lambda total, ud: self.totals.append(total),
            ),
            self,
        )
        self.sdk.TIMAddRecvNewMsgCallback(
            recorder.wrap("TIMRecvNewMsgCallback", self._on_messages), self
        )
        self.filter_totals = Stream()
        """``(filter dict, total)`` of TIMConvTotalUnreadMessageCountChangedByFilterCallback."""
        self.cgroup_events = Stream()
        """``(callback name, args…)`` of the five conversation-group callbacks."""
        self.receipts = Stream()
        self.revoked = Stream()
        self.updated = Stream()
        self.tips = Stream()
        self.sig_expired = Stream()
        self.sdk.TIMSetConvUnreadMessageCountChangedByFilterCallback(
            recorder.wrap(
                "TIMConvTotalUnreadMessageCountChangedByFilterCallback",
                lambda f, total, ud: self.filter_totals.append((json.loads(f), total)),
            ),
            self,
        )
        for name, setter in (
            (
                "TIMConvConversationGroupCreatedCallback",
                "TIMSetConvConversationGroupCreatedCallback",
            ),
            (
                "TIMConvConversationGroupDeletedCallback",
                "TIMSetConvConversationGroupDeletedCallback",
            ),
            (
                "TIMConvConversationGroupNameChangedCallback",
                "TIMSetConvConversationGroupNameChangedCallback",
            ),
            (
                "TIMConvConversationsAddedToGroupCallback",
                "TIMSetConvConversationsAddedToGroupCallback",
            ),
            (
                "TIMConvConversationsDeletedFromGroupCallback",
                "TIMSetConvConversationsDeletedFromGroupCallback",
            ),
        ):
            getattr(self.sdk, setter)(
                recorder.wrap(name, lambda *a, n=name: self.cgroup_events.append((n, *a[:-1]))),
                self,
            )
        self.sdk.TIMSetMsgReadedReceiptCallback(
            recorder.wrap(
                "TIMMsgReadedReceiptCallback",
                lambda js, ud: [self.receipts.append(r) for r in json.loads(js)],
            ),
            self,
        )
        self.sdk.TIMSetMsgRevokeCallback(
            recorder.wrap(
                "TIMMsgRevokeCallback",
                lambda js, ud: [self.revoked.append(m) for m in json.loads(js)],
            ),
            self,
        )
        self.sdk.TIMSetMsgUpdateCallback(
            recorder.wrap(
                "TIMMsgUpdateCallback",
                lambda js, ud: [self.updated.append(m) for m in json.loads(js)],
            ),
            self,
        )
        self.sdk.TIMSetGroupTipsEventCallback(
            recorder.wrap(
                "TIMGroupTipsEventCallback", lambda js, ud: self.tips.append(json.loads(js))
            ),
            self,
        )
        self.sdk.TIMSetUserSigExpiredCallback(
            recorder.wrap("TIMUserSigExpiredCallback", lambda ud: self.sig_expired.append(ud)),
            self,
        )

    def _on_messages(self, json_msg_array: str, user_data: Any) -> None:
        for msg in json.loads(json_msg_array):
            self.messages.append(msg)

    # --- calls ------------------------------------------------------------------------------
    def start(
        self, name: str, *args: Any, user_data: Any = None
    ) -> tuple[int, Callable[[], Result]]:
        """Call ``name(*args, cb, user_data)``; return its TIMResult and a waiter for the
        callback."""
        done = threading.Event()
        box: list[Result] = []

        def cb(code: int, desc: str, json_params: str, ud: Any) -> None:
            box.append(Result(code, desc, json_params, ud, threading.get_ident()))
            done.set()

        ret = getattr(self.sdk, name)(*args, self.recorder.wrap(name, cb), user_data)

        def wait() -> Result:
            assert done.wait(TIMEOUT), f"no callback from {name}"
            return box[0]

        return ret, wait

    def call(self, name: str, *args: Any, user_data: Any = None) -> Result:
        """Call and wait for the callback; the call must be accepted (TIM_SUCC)."""
        ret, wait = self.start(name, *args, user_data=user_data)
        assert ret == k.TIM_SUCC, f"{name} returned {ret}"
        return wait()

    def ok(self, name: str, *args: Any) -> Any:
        """Call, require code 0, return the parsed JSON."""
        res = self.call(name, *args)
        assert res.code == 0, f"{name}: {res.code} {res.desc}"
        return res.value

    # --- sessions ---------------------------------------------------------------------------
    def login(self, user_id: str) -> None:
        """Log in and wait for the conversation sync to finish."""
        mark = self.conv_events.mark()
        self.ok("TIMLogin", user_id, self.server.sig(user_id))
        self.user_id = user_id
        self.conv_events.wait(lambda e: e.event == k.kTIMConvEvent_Finish, since=mark)

    # --- shortcuts --------------------------------------------------------------------------
    def conv_list(self) -> list[dict[str, Any]]:
        return self.ok("TIMConvGetConvList")  # type: ignore[no-any-return]

    def conv(self, conv_id: str, conv_type: int) -> dict[str, Any] | None:
        param = [
            {
                k.GET_CONVERSATION_LIST_PARAM_CONV_ID: conv_id,
                k.GET_CONVERSATION_LIST_PARAM_CONV_TYPE: conv_type,
            }
        ]
        found = self.ok("TIMConvGetConvInfo", json.dumps(param))
        return found[0] if found else None

    def send_text(self, conv_id: str, conv_type: int, text: str) -> dict[str, Any]:
        msg = {k.MESSAGE_ELEM_ARRAY: [{k.ELEM_TYPE: k.kTIMElem_Text, k.TEXT_ELEM_CONTENT: text}]}
        return self.ok("TIMMsgSendMessage", conv_id, conv_type, json.dumps(msg), None)  # type: ignore[no-any-return]

    def total_unread(self) -> int:
        value = self.ok("TIMConvGetTotalUnreadMessageCount")
        return value[k.CONV_GET_TOTAL_UNREAD_MESSAGE_COUNT_RESULT_UNREAD_COUNT]  # type: ignore[no-any-return]

    def create_group(self, group_id: str, members: list[str], **extra: Any) -> None:
        param = {
            k.CREATE_GROUP_PARAM_GROUP_NAME: extra.pop("name", group_id),
            k.CREATE_GROUP_PARAM_GROUP_ID: group_id,
            k.CREATE_GROUP_PARAM_GROUP_MEMBER_ARRAY: [
                {k.GROUP_MEMBER_INFO_IDENTIFIER: m} for m in members
            ],
            **extra,
        }
        assert self.ok("TIMGroupCreate", json.dumps(param)) == {
            k.CREATE_GROUP_RESULT_GROUPID: group_id
        }

    def ids(self, *ids: str) -> str:
        """A JSON array of conversation-id strings."""
        return json.dumps(list(ids))

    def results(self, name: str, *args: Any) -> dict[str, int]:
        """A batch call's TIMConversationOperationResult array as ``{id: code}``."""
        value = self.ok(name, *args)
        return {
            r[k.CONVERSATION_OPERATION_RESULT_CONVERSATION_ID]: r[
                k.CONVERSATION_OPERATION_RESULT_RESULT_CODE
            ]
            for r in value
        }

    def page(self, conv_filter: dict[str, Any], next_seq: int = 0, count: int = 100) -> Any:
        return self.ok(
            "TIMConvGetConversationListByFilter", json.dumps(conv_filter), next_seq, count
        )

    def uninit(self) -> None:
        self.sdk.TIMSetLogCallback(None)
        if self.sdk._client is not None:
            assert self.sdk.TIMUninit() == k.TIM_SUCC


@pytest.fixture(autouse=True)
def opentim_log_level() -> Iterator[None]:
    """``TIMSetConfig`` sets the ``opentim`` logger's level: put it back after each test."""
    logger = logging.getLogger("opentim")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.fixture(autouse=True)
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """Captures every callback and event of every test here: each TIM function of ``TIMSDK`` is
    tapped so that its callback arguments are recorded, whoever calls it; after the test, all
    of it is checked against the reference (the JSON really emitted, key by key, DESIGN §6)."""
    rec = Recorder()
    facts = AllFacts()
    tap = Tap(rec, facts)
    for name in facts.functions:
        owner = next(cls for cls in TIMSDK.__mro__ if name in vars(cls))
        monkeypatch.setattr(owner, name, tap.patched(name, vars(owner)[name]))
    yield rec
    problems = rec.problems(Checker())
    assert not problems, "JSON not conforming to the reference:\n" + "\n".join(problems[:50])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module that sets ``BOTH_ENGINES = True`` runs each of its tests that use a server on
    SQLite and on PostgreSQL."""
    if getattr(metafunc.module, "BOTH_ENGINES", False) and "server" in metafunc.fixturenames:
        engines = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
        metafunc.parametrize("server", engines, indirect=True)


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerThread]:
    """A server on SQLite (the default), or on a fresh PostgreSQL schema (``BOTH_ENGINES``)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        srv = ServerThread(tmp_path / "server")
        srv.start()
        yield srv
        srv.stop()
        return
    with postgres_schema() as store:
        srv = ServerThread(tmp_path / "server", store=store)
        srv.start()
        yield srv
        srv.stop()


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """``tests.services.temp_schema`` for a synchronous fixture: a store URL on a new schema."""
    loop = asyncio.new_event_loop()
    schema = temp_schema()
    try:
        yield loop.run_until_complete(schema.__aenter__())
    finally:
        loop.run_until_complete(schema.__aexit__(None, None, None))
        loop.close()


@pytest.fixture
def make_tim(
    server: ServerThread, recorder: Recorder, tmp_path: Path
) -> Iterator[Callable[..., Tim]]:
    """``make_tim(user_id=None, device=None, sdkappid=SDKAPPID)``: a new TIMSDK instance
    (logged in when a user is given). Each device name is its own config path, so its own
    device id; by default every instance is a device of its own."""
    made: list[Tim] = []

    def make(
        user_id: str | None = None, device: str | None = None, sdkappid: int = SDKAPPID
    ) -> Tim:
        path = tmp_path / "devices" / (device or f"d{len(made)}")
        tim = Tim(server, recorder, path, sdkappid)
        made.append(tim)
        if user_id is not None:
            tim.login(user_id)
        return tim

    yield make
    for tim in made:
        tim.uninit()
