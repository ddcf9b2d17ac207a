"""TIMCore: the state of one TIM SDK instance and the steps every TIM call shares.

A call checks the instance's state and its arguments on the caller's thread
(``CallRefusedError`` → the ``TIMResult`` it carries), then hands its work to the instance's
``SdkThread`` and returns ``TIM_SUCC``. SDK events are turned into the registered TIM callbacks
here, on the SDK thread, in the order the SDK emits them, so an event always reaches the app
before the callback of any later call that already shows its change (DESIGN §6).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from opentim.protocol import Conversation, ErrorCode, Message, TIMResult
from opentim.sdk import Client, ConvEvent, LoginStatus, SdkError

from . import keys as k
from .convert import CallRefusedError, conv_info, dumps, encode, message_json
from .runtime import CallKind, SdkThread, TIMCommCallback, deliver

log = logging.getLogger(__name__)

P = ParamSpec("P")

TIMConvEventCallback = Callable[[int, str, Any], object]
"""``cb(conv_event, json_conv_array, user_data)``."""
TIMConvTotalUnreadMessageCountChangedCallback = Callable[[int, Any], object]
"""``cb(total_unread_count, user_data)``."""
TIMRecvNewMsgCallback = Callable[[str, Any], object]
"""``cb(json_msg_array, user_data)``."""
TIMKickedOfflineCallback = Callable[[Any], object]
TIMUserSigExpiredCallback = Callable[[Any], object]
"""``cb(user_data)``."""
"""``cb(user_data)``."""
TIMNetworkStatusListenerCallback = Callable[[int, int, str, Any], object]
"""``cb(status, code, desc, user_data)``."""


CB = TypeVar("CB")
Registered = tuple[CB, object] | None
"""A registered callback and its user_data, or nothing."""


def tim_call(fn: Callable[P, int]) -> Callable[P, int]:
    """Turn a ``CallRefusedError`` raised while checking a call into the call's return value."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            return fn(*args, **kwargs)
        except CallRefusedError as refusal:
            log.debug("%s refused: %s", fn.__name__, refusal)
            return int(refusal.code)

    return call


def check_listener(cb: object) -> None:
    """``TIMSet…Callback`` / ``TIMAddRecvNewMsgCallback`` take a callable or None.

    They return nothing in C, so a non-callable is a programming error: ``TypeError``.
    """
    if cb is not None and not callable(cb):
        raise TypeError(f"a TIM callback must be callable or None, not {type(cb).__name__}")


class TIMCore:
    """The state of one instance: its SDK thread and client (between ``TIMInit`` and
    ``TIMUninit``), its login state, and the app's registered callbacks."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._runtime: SdkThread | None = None
        self._client: Client | None = None
        self._status = k.kTIMLoginStatus_UnLogined
        self._login_user = ""
        self._session_gen = 0
        self._conv_event_cb: Registered[TIMConvEventCallback] = None
        self._total_unread_cb: Registered[TIMConvTotalUnreadMessageCountChangedCallback] = None
        self._total_unread_armed = False
        self._recv_msg_cbs: list[tuple[TIMRecvNewMsgCallback, object]] = []
        self._kicked_cb: Registered[TIMKickedOfflineCallback] = None
        self._sig_expired_cb: Registered[TIMUserSigExpiredCallback] = None
        self._network_cb: Registered[TIMNetworkStatusListenerCallback] = None
        self._conv_cache: dict[tuple[int, str], tuple[Conversation, str, bytes]] = {}
        """ConvInfo JSON by conversation, valid while the SDK holds the same snapshot object
        (the SDK replaces a snapshot on every change, never edits it) for the same user."""

    # --- state checks (caller's thread) -----------------------------------------------------
    def _require(self, *, login: bool = True) -> Client:
        """The client, or ``TIM_ERR_SDKUNINIT`` / ``TIM_ERR_NOTLOGIN``."""
        with self._lock:
            client = self._client
            if client is None:
                raise CallRefusedError(TIMResult.TIM_ERR_SDKUNINIT, "TIMInit has not been called")
            if login and self._status not in (
                k.kTIMLoginStatus_Logined,
                k.kTIMLoginStatus_Logining,
            ):
                raise CallRefusedError(TIMResult.TIM_ERR_NOTLOGIN, "TIMLogin has not been called")
            return client

    def _submit(
        self,
        client: Client,
        kind: CallKind,
        work: Callable[[], Awaitable[str]],
        cb: TIMCommCallback | None,
        user_data: object,
    ) -> int:
        """Hand ``work`` to the SDK thread of ``client``'s session; ``TIM_SUCC``, or
        ``TIM_ERR_SDKUNINIT`` if ``TIMUninit`` came in between."""
        with self._lock:
            if self._client is not client or self._runtime is None:
                raise CallRefusedError(TIMResult.TIM_ERR_SDKUNINIT, "TIMUninit was called")
            self._runtime.submit(kind, work, cb, user_data)
        return int(TIMResult.TIM_SUCC)

    # --- helpers for work on the SDK thread -------------------------------------------------
    @staticmethod
    async def _ready(client: Client) -> None:
        """Before reading the local cache: logged in (else 6014), and either the list came from
        the device's cache (it answers at once and syncs behind) or the first sync finished
        (or the wait for it timed out: then the cache is what there is)."""
        if client.login_status != LoginStatus.LOGGED_IN:
            raise SdkError(ErrorCode.ERR_SDK_NOT_LOGGED_IN, "not logged in")
        if not client.synced and not client.has_cache:
            try:
                await client.wait_synced(client.request_timeout)
            except TimeoutError:
                log.warning("conversation sync unfinished; answering from the local cache")

    def _conv_encoded(self, client: Client, conv: Conversation) -> bytes:
        """One conversation's ConvInfo as JSON bytes, encoded once per snapshot."""
        key = (conv.conv_type, conv.conv_id)
        hit = self._conv_cache.get(key)
        if hit is not None and hit[0] is conv and hit[1] == client.user_id:
            return hit[2]
        encoded = encode(conv_info(conv, client.user_id))
        self._conv_cache[key] = (conv, client.user_id, encoded)
        return encoded

    def _conv_array(self, client: Client, convs: list[Conversation]) -> str:
        """A JSON array of ConvInfo, from the per-snapshot cache."""
        return (b"[" + b",".join([self._conv_encoded(client, c) for c in convs]) + b"]").decode()

    def _conv_object(self, client: Client, conv: Conversation) -> str:
        return self._conv_encoded(client, conv).decode()

    @staticmethod
    def _msg_json(client: Client, msg: Message) -> dict[str, Any]:
        conv = client.conversations.cached(msg.conv_type, msg.conv_id_for(client.user_id))
        return message_json(msg, client.user_id, conv.read_seq if conv is not None else 0)

    # --- SDK events → TIM callbacks (SDK thread) --------------------------------------------
    def _wire(self, client: Client) -> None:
        client.events.conversations.add(lambda kind, convs: self._on_convs(client, kind, convs))
        client.events.total_unread.add(self._on_total_unread)
        client.events.new_messages.add(lambda msgs: self._on_messages(client, msgs))
        client.events.kicked.add(lambda code, desc: self._on_kicked(client))
        client.events.sig_expired.add(lambda: self._on_sig_expired(client))
        client.events.network.add(self._on_network)

    def _on_convs(self, client: Client, kind: ConvEvent, convs: list[Conversation]) -> None:
        registered = self._conv_event_cb
        if registered is None:
            return
        cb, user_data = registered
        if kind in (ConvEvent.SYNC_STARTED, ConvEvent.SYNC_FINISHED):
            text = ""
        else:
            text = self._conv_array(client, convs)
        deliver(cb, int(kind), text, user_data)

    def _on_total_unread(self, total: int) -> None:
        registered = self._total_unread_cb
        if registered is None or not self._total_unread_armed:
            return
        cb, user_data = registered
        deliver(cb, total, user_data)

    def _on_messages(self, client: Client, msgs: list[Message]) -> None:
        with self._lock:
            listeners = list(self._recv_msg_cbs)
        if not listeners:
            return
        text = dumps([self._msg_json(client, m) for m in msgs])
        for cb, user_data in listeners:
            deliver(cb, text, user_data)

    def _on_kicked(self, client: Client) -> None:
        self._on_session_ended(client, self._kicked_cb)

    def _on_sig_expired(self, client: Client) -> None:
        self._on_session_ended(client, self._sig_expired_cb)

    def _on_session_ended(
        self, client: Client, registered: Registered[Callable[[Any], object]]
    ) -> None:
        """The server ended the session (kicked, or the UserSig expired): logged out, then
        the app's callback."""
        with self._lock:
            if self._client is client:
                self._status = k.kTIMLoginStatus_UnLogined
                self._login_user = ""
        if registered is not None:
            cb, user_data = registered
            deliver(cb, user_data)

    def _on_network(self, status: int, code: int, desc: str) -> None:
        registered = self._network_cb
        if registered is not None:
            cb, user_data = registered
            deliver(cb, int(status), int(code), desc, user_data)
