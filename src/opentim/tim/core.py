"""TIMCore: the state of one TIM SDK instance and the steps every TIM call shares.

A call checks the instance's state and its arguments on the caller's thread
(``CallRefusedError`` → the ``TIMResult`` it carries), then hands its work to the instance's
``SdkThread`` and returns ``TIM_SUCC``. SDK events are turned into the registered TIM callbacks
here, on the SDK thread, in the order the SDK emits them, so an event always reaches the app
before the callback of any later call that already shows its change (DESIGN §6).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from opentim.protocol import (
    AllRecvOpt,
    Conversation,
    ErrorCode,
    GroupReport,
    Message,
    Profile,
    TIMResult,
    UserStatus,
)
from opentim.protocol.extensions import ExtPush
from opentim.protocol.friendship import FriendEvent
from opentim.protocol.pins import PinnedPush
from opentim.protocol.reactions import ReactionPush
from opentim.sdk import (
    Client,
    ConvEvent,
    ConvFilter,
    ConvGroupEvent,
    ConvGroupEventKind,
    LoginStatus,
    Receipt,
    SdkError,
)

from . import keys as k
from .convert import (
    CallRefusedError,
    conv_info,
    dumps,
    encode,
    filter_json,
    group_report_json,
    group_tip_json,
    message_json,
    receipt_json,
)
from .logs import CallbackLogHandler
from .runtime import CallKind, SdkThread, TIMCommCallback, deliver
from .user_json import all_recv_opt_json, full_profile_json, status_json

log = logging.getLogger(__name__)
refusals = logging.getLogger("opentim.tim")
"""Every synchronous refusal (``TIM_ERR_*``) is logged here at WARNING with its reason."""

P = ParamSpec("P")

TIMConvEventCallback = Callable[[int, str, Any], object]
"""``cb(conv_event, json_conv_array, user_data)``."""
TIMConvTotalUnreadMessageCountChangedCallback = Callable[[int, Any], object]
"""``cb(total_unread_count, user_data)``."""
TIMRecvNewMsgCallback = Callable[[str, Any], object]
"""``cb(json_msg_array, user_data)``."""
TIMKickedOfflineCallback = Callable[[Any], object]
"""``cb(user_data)``."""
TIMNetworkStatusListenerCallback = Callable[[int, int, str, Any], object]
"""``cb(status, code, desc, user_data)``."""
TIMUserSigExpiredCallback = Callable[[Any], object]
"""``cb(user_data)``."""
TIMConvTotalUnreadMessageCountChangedByFilterCallback = Callable[[str, int, Any], object]
"""``cb(filter, total_unread_count, user_data)``."""
TIMConvConversationGroupCreatedCallback = Callable[[str, str, Any], object]
"""``cb(group_name, conversation_array, user_data)``."""
TIMConvConversationGroupDeletedCallback = Callable[[str, Any], object]
"""``cb(group_name, user_data)``."""
TIMConvConversationGroupNameChangedCallback = Callable[[str, str, Any], object]
"""``cb(old_name, new_name, user_data)``."""
TIMConvConversationsAddedToGroupCallback = Callable[[str, str, Any], object]
"""``cb(group_name, conversation_array, user_data)``."""
TIMConvConversationsDeletedFromGroupCallback = Callable[[str, str, int, Any], object]
"""``cb(group_name, conversation_array, reason, user_data)``."""
TIMMsgReadedReceiptCallback = Callable[[str, Any], object]
"""``cb(json_msg_read_receipt_array, user_data)``."""
TIMMsgRevokeCallback = Callable[[str, Any], object]
"""``cb(json_msg_revoke_info_array, user_data)``."""
TIMMsgUpdateCallback = Callable[[str, Any], object]
"""``cb(json_msg_array, user_data)``."""
TIMGroupTipsEventCallback = Callable[[str, Any], object]
"""``cb(json_group_tip, user_data)``."""


TIMLogCallback = Callable[[int, str, Any], object]
"""``cb(level, log, user_data)``."""


CB = TypeVar("CB")
Registered = tuple[CB, object] | None
"""A registered callback and its user_data, or nothing."""


JSON_PARAMS = frozenset({"conversation_id_array", "filter"})
"""The JSON parameters whose names do not start with ``json_``."""


def _not_unicode(value: str) -> bool:
    """A Python str with a lone surrogate, which no C string (UTF-8) can carry."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return True
    return False


def _check_strings(names: list[str], args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    """Refuse a str argument that is not valid Unicode: ``TIM_ERR_JSON`` for a JSON parameter
    (it cannot be UTF-8 JSON), ``TIM_ERR_PARAM`` for any other (DESIGN §6)."""
    for name, value in [*zip(names, args, strict=False), *kwargs.items()]:
        if isinstance(value, str) and _not_unicode(value):
            if name.startswith("json_") or name in JSON_PARAMS:
                raise CallRefusedError(TIMResult.TIM_ERR_JSON, f"{name} is not valid Unicode")
            raise CallRefusedError(TIMResult.TIM_ERR_PARAM, f"{name} is not valid Unicode")


def tim_call(fn: Callable[P, int]) -> Callable[P, int]:
    """Turn a ``CallRefusedError`` raised while checking a call into the call's return value,
    logging why on ``opentim.tim`` (the C API's return code alone does not say); a str argument
    that is not valid Unicode is refused before the call looks at it."""
    names = list(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            _check_strings(names, args, kwargs)
            return fn(*args, **kwargs)
        except CallRefusedError as refusal:
            refusals.warning(
                "%s returned %d (%s): %s", fn.__name__, refusal.code, refusal.code.name, refusal.why
            )
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
        self._network_cb: Registered[TIMNetworkStatusListenerCallback] = None
        self._sig_expired_cb: Registered[TIMUserSigExpiredCallback] = None
        self._filter_unread_cb: Registered[
            TIMConvTotalUnreadMessageCountChangedByFilterCallback
        ] = None
        self._cgroup_created_cb: Registered[TIMConvConversationGroupCreatedCallback] = None
        self._cgroup_deleted_cb: Registered[TIMConvConversationGroupDeletedCallback] = None
        self._cgroup_renamed_cb: Registered[TIMConvConversationGroupNameChangedCallback] = None
        self._cgroup_added_cb: Registered[TIMConvConversationsAddedToGroupCallback] = None
        self._cgroup_removed_cb: Registered[TIMConvConversationsDeletedFromGroupCallback] = None
        self._receipt_cb: Registered[TIMMsgReadedReceiptCallback] = None
        self._revoke_cb: Registered[TIMMsgRevokeCallback] = None
        self._update_cb: Registered[TIMMsgUpdateCallback] = None
        self._group_tips_cb: Registered[TIMGroupTipsEventCallback] = None
        self._log_cb: Registered[TIMLogCallback] = None
        self._callback_log_handler: CallbackLogHandler | None = None
        self._config: dict[str, Any] = {}
        """What ``TIMSetConfig`` accepted (key → value), kept across ``TIMUninit``."""
        self._experimental: dict[str, Any] = {}
        """What ``callExperimentalAPI`` set (operation → its parameter)."""
        self._listeners: dict[str, tuple[Callable[..., object], object]] = {}
        """The callbacks registered through the setters of events that are not real yet, by
        callback typedef (``TIMOnAddFriendCallback`` …); ``notyet.NotYetAPI`` keeps them."""
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
        if conv is None:
            out = message_json(msg, client.user_id, 0)
        else:
            out = message_json(msg, client.user_id, conv.read_seq, conv.peer_read_seq)
        local = client.messages.local_data(msg.msg_id)
        if local is not None:
            out[k.MESSAGE_CUSTOM_STR] = local.custom_str
            out[k.MESSAGE_CUSTOM_INT] = local.custom_int
        return out

    def _register(self, typedef: str, cb: Callable[..., object] | None, user_data: object) -> None:
        """A ``TIMSet…Callback`` kept by callback typedef in ``_listeners`` (None drops it)."""
        check_listener(cb)
        with self._lock:
            if cb is None:
                self._listeners.pop(typedef, None)
            else:
                self._listeners[typedef] = (cb, user_data)

    def _on_friendship(self, event: FriendEvent) -> None:
        """A friendship change (tim/friendship.py turns it into its callback)."""

    def _on_reaction(self, client: Client, conv_id: str, push: ReactionPush) -> None:
        """A reaction change (tim/reactions.py turns it into its callback)."""

    def _on_pin(self, client: Client, push: PinnedPush) -> None:
        """A pinned-message change (tim/pins.py turns it into its callback)."""

    def _on_extensions(self, client: Client, conv_id: str, push: ExtPush) -> None:
        """An extension change (tim/msg_ext.py turns it into its callbacks)."""

    # --- SDK events → TIM callbacks (SDK thread) --------------------------------------------
    def _wire(self, client: Client) -> None:
        client.events.conversations.add(lambda kind, convs: self._on_convs(client, kind, convs))
        client.events.total_unread.add(lambda t: self._on_total_unread(client.users.total_now(t)))
        client.events.new_messages.add(lambda msgs: self._on_messages(client, msgs))
        client.events.kicked.add(lambda code, desc: self._on_kicked(client))
        client.events.sig_expired.add(lambda: self._on_sig_expired(client))
        client.events.network.add(self._on_network)
        client.events.filter_unread.add(self._on_filter_unread)
        client.events.conv_groups.add(lambda event: self._on_conv_group(client, event))
        client.events.revoked.add(lambda msgs: self._on_revoked(client, msgs))
        client.events.receipts.add(self._on_receipts)
        client.events.updated.add(lambda msgs: self._on_updated(client, msgs))
        client.events.friendship.add(self._on_friendship)
        client.events.statuses.add(self._on_statuses)
        client.events.profiles.add(lambda p, changed: self._on_profile(client, p))
        client.events.all_recv_opt.add(lambda opt: self._on_all_recv_opt(client, opt))
        client.events.group_reports.add(lambda report: self._on_group_report(client, report))
        client.events.reactions.add(lambda conv_id, push: self._on_reaction(client, conv_id, push))
        client.events.pins.add(lambda push: self._on_pin(client, push))
        client.events.extensions.add(lambda cid, push: self._on_extensions(client, cid, push))

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
        if listeners:
            text = dumps([self._msg_json(client, m) for m in msgs])
            for cb, user_data in listeners:
                deliver(cb, text, user_data)
        tips = self._group_tips_cb
        if tips is not None:
            for msg in msgs:
                tip = group_tip_json(msg) if msg.is_tips else None
                if tip is not None:
                    deliver(tips[0], dumps(tip), tips[1])

    def _on_filter_unread(self, conv_filter: ConvFilter, total: int) -> None:
        registered = self._filter_unread_cb
        if registered is not None:
            deliver(registered[0], dumps(filter_json(conv_filter)), total, registered[1])

    def _on_conv_group(self, client: Client, event: ConvGroupEvent) -> None:
        kind = event.kind
        if kind is ConvGroupEventKind.CREATED and (cb := self._cgroup_created_cb):
            deliver(cb[0], event.name, self._conv_array(client, event.convs), cb[1])
        elif kind is ConvGroupEventKind.DELETED and (cb2 := self._cgroup_deleted_cb):
            deliver(cb2[0], event.name, cb2[1])
        elif kind is ConvGroupEventKind.RENAMED and (cb3 := self._cgroup_renamed_cb):
            deliver(cb3[0], event.name, event.new_name, cb3[1])
        elif kind is ConvGroupEventKind.ADDED and (cb4 := self._cgroup_added_cb):
            deliver(cb4[0], event.name, self._conv_array(client, event.convs), cb4[1])
        elif kind is ConvGroupEventKind.REMOVED and (cb5 := self._cgroup_removed_cb):
            text = self._conv_array(client, event.convs)
            deliver(cb5[0], event.name, text, event.reason, cb5[1])

    def _on_revoked(self, client: Client, msgs: list[Message]) -> None:
        """A revoke reaches the app twice: as the revoke (TIMMsgRevokeCallback) and as the
        message's new state (TIMMsgUpdateCallback: status Revoked, elements gone)."""
        revoke, update = self._revoke_cb, self._update_cb
        if revoke is None and update is None:
            return
        text = dumps([self._msg_json(client, m) for m in msgs])
        if revoke is not None:
            deliver(revoke[0], text, revoke[1])
        if update is not None:
            deliver(update[0], text, update[1])

    def _on_updated(self, client: Client, msgs: list[Message]) -> None:
        """Modified messages (TIMMsgUpdateCallback: each as it is now)."""
        if (update := self._update_cb) is not None:
            deliver(update[0], dumps([self._msg_json(client, m) for m in msgs]), update[1])

    def _on_group_report(self, client: Client, report: GroupReport) -> None:
        with self._lock:
            listeners = list(self._recv_msg_cbs)
        if listeners:
            text = dumps([group_report_json(report, client.user_id)])
            for cb, user_data in listeners:
                deliver(cb, text, user_data)

    def _on_receipts(self, receipts: list[Receipt]) -> None:
        registered = self._receipt_cb
        if registered is not None:
            deliver(registered[0], dumps([receipt_json(r) for r in receipts]), registered[1])

    # Issue 11: the listeners of these are registered by typedef (``self._listeners``).
    def _on_statuses(self, statuses: list[UserStatus]) -> None:
        registered = self._listeners.get("TIMUserStatusChangedCallback")
        if registered is not None and statuses:
            deliver(registered[0], dumps([status_json(s) for s in statuses]), registered[1])

    def _on_profile(self, client: Client, profile: Profile) -> None:
        """One's own profile (TIMSelfInfoUpdatedCallback), or another user's
        (TIMUserInfoChangedCallback: a subscribed user, a friend)."""
        own = profile.user_id == client.user_id
        registered = self._listeners.get(
            "TIMSelfInfoUpdatedCallback" if own else "TIMUserInfoChangedCallback"
        )
        if registered is not None:
            text = full_profile_json(profile)
            deliver(registered[0], dumps(text if own else [text]), registered[1])

    def _on_all_recv_opt(self, client: Client, opt: AllRecvOpt) -> None:
        """The option changed: its callback, and the unread total as the app now sees it."""
        registered = self._listeners.get("TIMMsgAllMessageReceiveOptionCallback")
        if registered is not None:
            deliver(registered[0], dumps(all_recv_opt_json(opt)), registered[1])
        self._on_total_unread(client.users.total_now(client.conversations.total_unread()))

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
