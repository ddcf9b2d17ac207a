"""Check JSON the TIM layer really emitted against the reference (tim-keys.json), key by key and
type by type (DESIGN §6).

``Checker`` reads ``tim-keys.json`` (a copy of the reference, next to this file) and knows
nothing of opentim's code: it validates a JSON text against a shape in the reference's own type
notation (``array<ConvInfo>``, ``object<Message>`` …), the callback codes against
``error_codes``, and enum-typed values against ``enums``. ``Recorder`` captures every callback and
event the tests receive, so that everything emitted during a test gets checked.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentim.tim.extensions import MESSAGE_VERSION

REFERENCE = Path(__file__).with_name("tim-keys.json")
ALL_FUNCTIONS = Path(__file__).with_name("tim-c-all.json")
"""A copy of the reference's tim-c-all.json: all 244 functions of the 8.6 headers, their
callback typedefs, and every JSON key of each header with its type tag."""


def param_name(declared: str) -> str:
    """``"const char* conv_id"`` → ``"conv_id"``."""
    return declared.split()[-1].lstrip("*")


class AllFacts:
    """tim-c-all.json: the functions of every header, with their parameters, and the keys."""

    def __init__(self, path: Path = ALL_FUNCTIONS) -> None:
        data = json.loads(path.read_text())
        self.meta: dict[str, Any] = data["_meta"]
        self.headers: dict[str, dict[str, Any]] = data["headers"]
        self.functions: dict[str, dict[str, Any]] = {
            name: {**spec, "header": header}
            for header, h in self.headers.items()
            for name, spec in h["functions"].items()
        }
        self.callbacks: dict[str, list[str]] = {
            name: params
            for h in self.headers.values()
            for name, params in h["callback_typedefs"].items()
        }
        self.keys: dict[str, dict[str, str]] = {
            header: {spec["key"]: spec.get("type", "") for spec in h["json_keys"].values()}
            for header, h in self.headers.items()
        }
        self.key_names: dict[str, str] = {
            name: spec["key"]
            for h in self.headers.values()
            for name, spec in h["json_keys"].items()
        }

    def params(self, function: str) -> list[str]:
        return [param_name(p) for p in self.functions[function]["params"]]

    def sources_of(self, header: str) -> set[str]:
        """The recorder sources of a header: its functions and its callback typedefs."""
        h = self.headers[header]
        return set(h["functions"]) | set(h["callback_typedefs"])

    def check_flat(self, header: str, obj: object, where: str) -> list[str]:
        """Problems of an object whose keys must be keys of ``header`` with their type tag's
        JSON type (``string``, ``bool``, ``uint32`` …; tags naming another shape are not
        followed)."""
        if not isinstance(obj, dict):
            return [f"{where}: {obj!r} is not an object"]
        keys = self.keys[header]
        problems = []
        for key, value in obj.items():
            if key not in keys:
                problems.append(f"{where}: key {key!r} is not a key of {header}")
                continue
            base = keys[key].split(" ", 1)[0]
            if base == "string" and not isinstance(value, str):
                problems.append(f"{where}.{key}: {value!r} is not a string")
            elif base == "bool" and not isinstance(value, bool):
                problems.append(f"{where}.{key}: {value!r} is not a bool")
            elif base.startswith(("uint", "int")) and (
                not isinstance(value, int) or isinstance(value, bool)
            ):
                problems.append(f"{where}.{key}: {value!r} is not an integer")
        return problems


# Element type → the reference section listing its keys (TIMElemType values, reference §5.10).
ELEM_SECTIONS = {
    0: "TextElem",
    1: "ImageElem",
    2: "SoundElem",
    3: "CustomElem",
    4: "FileElem",
    5: "GroupTipsElem",
    6: "FaceElem",
    7: "LocationElem",
    8: "GroupReportElem",
    9: "VideoElem",
    12: "MergerElem",
}

_SHAPE = re.compile(r"^(object|array)<(\w+)>")

RESULT_CODE_KEYS = frozenset({"conversation_operation_result_result_code"})
"""Keys whose value is an error code: it must be one of the reference's ``error_codes``."""

MESSAGE_ARRAY_EVENTS = frozenset(
    {"TIMRecvNewMsgCallback", "TIMMsgUpdateCallback", "TIMMsgRevokeCallback"}
)
"""Events whose JSON is an array of Message. The reference names the revoke callback's
parameter ``json_msg_revoke_info_array`` without documenting its keys; opentim sends the
revoked Messages (status Revoked, ``message_revoker_*`` keys), which the Message section
defines for this purpose."""
SHAPES = {
    # Issue 12, pinned group messages (tim-keys.json has no shapes for these).
    "TIMPinGroupMessage": "",
    "TIMGetPinnedGroupMessageList": "array<Message>",
    "TIMSetConfig": "",
    "TIMMsgSendNewMsgEx": "object<Message>",
    # Issue 11, users: the reference's own sections (tim-keys.json has no shapes for these).
    "TIMProfileGetUserProfileList": "array<UserProfile>",
    "TIMGetUserStatus": "array<TIMUserStatus>",
    "TIMMsgFindMessages": "array<Message>",
    "TIMMsgFindByMsgLocatorList": "array<Message>",
    # Issue 12, modify: the modified Message (the header's comment says so).
    "TIMMsgModifyMessage": "object<Message>",
    # Issue 12, sending and lists.
    "TIMMsgBatchSend": "array<MsgBatchSendResult>",
    "TIMMsgCancelSend": "",
    "TIMMsgSetLocalCustomData": "",
    "TIMMsgDownloadMergerMessage": "array<Message>",
    **dict.fromkeys(
        (
            "TIMProfileModifySelfUserProfile",
            "TIMSubscribeUserInfo",
            "TIMUnsubscribeUserInfo",
            "TIMSetSelfStatus",
            "TIMSubscribeUserStatus",
            "TIMUnsubscribeUserStatus",
            "TIMMsgSetOfflinePushToken",
            "TIMMsgDoBackground",
            "TIMMsgDoForeground",
            "TIMMsgSetAllReceiveMessageOpt",
            "TIMMsgSetAllReceiveMessageOpt2",
            "TIMMsgListDelete",
            "TIMMsgMarkAllMessageAsRead",
        ),
        "",
    ),
}
"""Success shapes of functions tim-keys.json does not detail: TIMSetConfig answers an empty
string; TIMMsgSendNewMsgEx's result callback the sent Message, as TIMMsgSendNewMsg's."""

TIPS_ITEMS = frozenset({"GroupTipGroupChangeInfo", "GroupTipMemberChangeInfo"})
"""Items of a GroupTipsElem's change arrays: tim-keys.json has no section for them; their keys
are TIMGroupManager.h's (tim-c-all.json)."""

GROUP_MANAGER_RESULTS = {
    "TIMGroupGetGroupInfoList": list,
    "TIMGroupModifyGroupInfo": str,
    "TIMGroupGetMemberInfoList": dict,
    "TIMGroupModifyMemberInfo": str,
    "TIMGroupGetPendencyList": dict,
    "TIMGroupHandlePendency": str,
    "TIMGroupReportPendencyReaded": str,
}
"""TIMGroupManager.h functions tim-keys.json does not detail, and what their success JSON is: an
array or an object whose objects, nested ones included, hold only keys of that header (checked
against tim-c-all.json), or an empty string."""

REACTION_RESULTS = frozenset(
    {
        "TIMMsgAddMessageReaction",
        "TIMMsgRemoveMessageReaction",
        "TIMMsgGetMessageReactions",
        "TIMMsgGetAllUserListOfMessageReaction",
        "TIMMsgSetMessageExtensions",
        "TIMMsgGetMessageExtensions",
        "TIMMsgDeleteMessageExtensions",
    }
)
"""Reaction and extension functions (issue 12): tim-keys.json has no sections for their JSON
(``Checker.check_reactions``)."""

FLAT_RESULTS = {
    "callExperimentalAPI": ("TIMExperimentalAPI.h", "response_internal_operation"),
    "TIMSearchUsers": ("TIMManager.h", "user_search_result_user_list"),
    "TIMMsgGetAllReceiveMessageOpt": ("TIMMessageManager.h", "msg_all_recv_msg_opt_level"),
}
"""Success JSON checked against the keys of a header of tim-c-all.json (ResponseInfo), with the
key it must hold."""

_RANGES = {"uint": 2**32, "uint32": 2**32, "uint64": 2**64}


@dataclass
class Record:
    """One callback or event the app received."""

    source: str  # a function name, or the callback typedef name for events
    args: tuple[Any, ...]


class Checker:
    """Validates emitted JSON against the reference."""

    def __init__(self, path: Path = REFERENCE) -> None:
        self.ref = json.loads(path.read_text())
        self.sections: dict[str, dict[str, str]] = self.ref["json_keys"]
        # Tencent's SDK sends one of its internal fields in every Message, the version that
        # TIMMsgModifyMessage starts from; opentim does too (tim/extensions.MESSAGE_VERSION).
        internal = self.ref["json_keys_internal_do_not_use"]["MessageInternalField"]
        self.sections["Message"] = {
            **self.sections["Message"],
            MESSAGE_VERSION: internal[MESSAGE_VERSION],
        }
        self.enums: dict[str, dict[str, int]] = self.ref["enums"]
        self.codes = set(self.ref["error_codes"].values())
        self.functions: dict[str, dict[str, Any]] = self.ref["functions"]
        self.all = AllFacts()

    # --- shapes -----------------------------------------------------------------------------
    def callback_shape(self, function: str) -> str:
        """The shape of a function's success JSON: ``object<X>``, ``array<X>`` or ``""`` (the
        reference documents none, or an empty string; tim-keys.json details only some
        functions: ``SHAPES`` gives the others')."""
        if function in SHAPES:
            return SHAPES[function]
        declared = self.functions[function]["callback_json_param"]
        match = _SHAPE.match(declared)
        return match.group(0) if match else ""

    def check_text(self, shape: str, text: object, where: str) -> list[str]:
        """Problems of a JSON text that should have ``shape`` (``""``: must be empty)."""
        if not isinstance(text, str):
            return [f"{where}: not a str but {type(text).__name__}"]
        if shape == "":
            return [] if text == "" else [f"{where}: expected an empty string, got {text[:80]!r}"]
        try:
            value = json.loads(text)
        except ValueError as exc:
            return [f"{where}: not JSON ({exc})"]
        return self.check_value(shape, value, where)

    # --- values -----------------------------------------------------------------------------
    def check_value(self, declared: str, value: Any, where: str) -> list[str]:
        """Problems of ``value`` against a reference type such as ``uint<TIMConvType>``."""
        base, _, ref = declared.partition("<")
        ref = ref.rstrip(">")
        if declared.startswith("value @ref"):
            return []
        if base == "string":
            return [] if isinstance(value, str) else [f"{where}: {value!r} is not a string"]
        if base == "bool":
            return [] if isinstance(value, bool) else [f"{where}: {value!r} is not a bool"]
        if base in ("int", "int32", "int64"):
            ok = isinstance(value, int) and not isinstance(value, bool)
            return [] if ok else [f"{where}: {value!r} is not an int"]
        if base in _RANGES:
            ok = isinstance(value, int) and not isinstance(value, bool)
            if not ok or not 0 <= value < _RANGES[base]:
                return [f"{where}: {value!r} is not a {base}"]
            if ref and ref in self.enums and value not in self.enums[ref].values():
                return [f"{where}: {value} is not a value of {ref}"]
            return []
        if base == "double":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return [] if ok else [f"{where}: {value!r} is not a number"]
        if base == "object":
            if not isinstance(value, dict):
                return [f"{where}: {value!r} is not an object"]
            return self.check_object(ref, value, where) if ref in self.sections else []
        if base == "array":
            if not isinstance(value, list):
                return [f"{where}: {value!r} is not an array"]
            problems: list[str] = []
            for i, item in enumerate(value):
                problems += self.check_item(ref, item, f"{where}[{i}]")
            return problems
        return [f"{where}: unknown reference type {declared!r}"]

    def check_item(self, ref: str, item: Any, where: str) -> list[str]:
        if not ref:
            return []
        if ref == "elem":
            return self.check_elem(item, where)
        if ref in self.sections:
            return self.check_value(f"object<{ref}>", item, where)
        if ref in TIPS_ITEMS:
            return self.all.check_flat("TIMGroupManager.h", item, where)
        return self.check_value(ref, item, where)

    def check_object(self, section: str, obj: dict[str, Any], where: str) -> list[str]:
        """Every key must be one of the section's, with its declared type."""
        keys = self.sections[section]
        problems: list[str] = []
        for key, value in obj.items():
            if key not in keys:
                problems.append(f"{where}: key {key!r} is not in {section}")
            else:
                problems += self.check_value(keys[key], value, f"{where}.{key}")
                if key in RESULT_CODE_KEYS:
                    problems += self.check_code(value, f"{where}.{key}")
        return problems

    def check_elem(self, elem: Any, where: str) -> list[str]:
        if not isinstance(elem, dict):
            return [f"{where}: element {elem!r} is not an object"]
        problems = self.check_value(
            "uint<TIMElemType>", elem.get("elem_type"), f"{where}.elem_type"
        )
        section = ELEM_SECTIONS.get(elem.get("elem_type", -1))
        keys = self.sections.get(section, {}) if section else {}
        for key, value in elem.items():
            if key == "elem_type":
                continue
            if key not in keys:
                problems.append(f"{where}: key {key!r} is not in {section or 'any element'}")
            else:
                problems += self.check_value(keys[key], value, f"{where}.{key}")
        return problems

    # --- records ----------------------------------------------------------------------------
    def check_code(self, code: object, where: str) -> list[str]:
        ok = isinstance(code, int) and not isinstance(code, bool) and code in self.codes
        return [] if ok else [f"{where}: code {code!r} is not in error_codes"]

    def check_friendship(self, src: str, args: tuple[Any, ...]) -> list[str]:
        """TIMFriendshipManager.h (tim-keys.json does not detail it): every JSON object emitted,
        nested ones included, holds only keys of that header (or UserProfile keys of
        TIMManager.h), each with its tag's JSON type; the result codes are known codes."""
        problems: list[str] = []
        if src in self.all.functions:
            code, _desc, text = args[0], args[1], args[2]
            problems += self.check_code(code, f"{src}.code")
            texts = [text]
        else:
            texts = [a for a in args[:-1] if isinstance(a, str) and a[:1] in ("[", "{")]
        for text in texts:
            if not isinstance(text, str) or not text:
                continue
            for obj in _objects(json.loads(text)):
                header = (
                    "TIMManager.h"
                    if any(key.startswith("user_profile_") for key in obj)
                    else "TIMFriendshipManager.h"
                )
                problems += self.all.check_flat(header, obj, src)
        return problems

    def check_record(self, record: Record) -> list[str]:
        """Problems of one callback or event invocation."""
        src, args = record.source, record.args
        where = src
        if src in self.all.sources_of("TIMFriendshipManager.h"):
            return self.check_friendship(src, args)
        if src == "TIMConvEventCallback":
            event, text, _ = args
            problems = self.check_value("uint<TIMConvEvent>", event, f"{where}.conv_event")
            start_finish = (
                self.enums["TIMConvEvent"]["kTIMConvEvent_Start"],
                self.enums["TIMConvEvent"]["kTIMConvEvent_Finish"],
            )
            shape = "" if event in start_finish else "array<ConvInfo>"
            return problems + self.check_text(shape, text, where)
        if src == "TIMConvTotalUnreadMessageCountChangedCallback":
            total, _ = args
            return self.check_value("uint", total, f"{where}.total_unread_count")
        if src in MESSAGE_ARRAY_EVENTS:
            text, _ = args
            return self.check_text("array<Message>", text, where)
        if src == "TIMMsgReadedReceiptCallback":
            text, _ = args
            return self.check_text("array<MessageReceipt>", text, where)
        if src == "TIMGroupTipsEventCallback":
            text, _ = args
            return self.check_text("object<GroupTipsElem>", text, where)
        if src == "TIMConvTotalUnreadMessageCountChangedByFilterCallback":
            text, total, _ = args
            problems = self.check_text("object<TIMConversationListFilter>", text, where)
            return problems + self.check_value("uint", total, f"{where}.total_unread_count")
        if src in (
            "TIMConvConversationGroupCreatedCallback",
            "TIMConvConversationsAddedToGroupCallback",
        ):
            name, text, _ = args
            problems = self.check_value("string", name, f"{where}.group_name")
            return problems + self.check_text("array<ConvInfo>", text, where)
        if src == "TIMConvConversationsDeletedFromGroupCallback":
            name, text, reason, _ = args
            problems = self.check_value("string", name, f"{where}.group_name")
            problems += self.check_text("array<ConvInfo>", text, where)
            if reason not in (0, 1):
                problems.append(f"{where}: reason {reason!r} is neither 0 nor 1")
            return problems
        if src == "TIMConvConversationGroupDeletedCallback":
            name, _ = args
            return self.check_value("string", name, f"{where}.group_name")
        if src == "TIMConvConversationGroupNameChangedCallback":
            old, new, _ = args
            return self.check_value("string", old, f"{where}.old_name") + self.check_value(
                "string", new, f"{where}.new_name"
            )
        if src == "TIMUserStatusChangedCallback":
            return self.check_text("array<TIMUserStatus>", args[0], where)
        if src == "TIMUserInfoChangedCallback":
            return self.check_text("array<UserProfile>", args[0], where)
        if src == "TIMMsgGroupPinnedMessageChangedCallback":
            group_id, text, pinned, op_user, _ = args
            problems = self.check_text("object<Message>", text, where)
            problems += self.check_value("string", group_id, f"{where}.group_id")
            problems += self.check_value("bool", pinned, f"{where}.is_pinned")
            return problems + self.check_value("string", op_user, f"{where}.op_user")
        if src in ("TIMMsgExtensionsChangedCallback", "TIMMsgExtensionsDeletedCallback"):
            msg_id, text, _ = args
            problems = self.check_value("string", msg_id, f"{where}.message_id")
            value = json.loads(text) if isinstance(text, str) else None
            if src.endswith("DeletedCallback"):
                ok = isinstance(value, list) and all(isinstance(k, str) for k in value)
                return problems + ([] if ok else [f"{where}: {text!r} is not a key array"])
            return problems + self.check_reactions(text, where)
        if src == "TIMMsgReactionsChangedCallback":
            return self.check_reactions(args[0], where)
        if src == "TIMSelfInfoUpdatedCallback":
            return self.check_text("object<UserProfile>", args[0], where)
        if src == "TIMMsgAllMessageReceiveOptionCallback":
            value = json.loads(args[0]) if isinstance(args[0], str) and args[0] else None
            return self.all.check_flat("TIMMessageManager.h", value, where)
        if src in ("TIMKickedOfflineCallback", "TIMUserSigExpiredCallback"):
            return [] if len(args) == 1 else [f"{where}: takes only user_data, got {args!r}"]
        if src == "TIMNetworkStatusListenerCallback":
            status, code, desc, _ = args
            problems = self.check_value("uint<TIMNetworkStatus>", status, f"{where}.status")
            problems += self.check_code(code, f"{where}.code")
            return problems + self.check_value("string", desc, f"{where}.desc")
        if src == "TIMLogCallback":
            level, text, _ = args
            problems = self.check_value("uint<TIMLogLevel>", level, f"{where}.level")
            return problems + self.check_value("string", text, f"{where}.log")
        code, desc, text, _ = args
        problems = self.check_code(code, f"{where}.code")
        if not isinstance(desc, str):
            problems.append(f"{where}: desc {desc!r} is not a str")
        if code == 0 and src in FLAT_RESULTS:
            header, required = FLAT_RESULTS[src]
            value = json.loads(text) if isinstance(text, str) and text else None
            problems += self.all.check_flat(header, value, where)
            if isinstance(value, dict) and required not in value:
                problems.append(f"{where}: {required} is missing")
            return problems
        if src in GROUP_MANAGER_RESULTS:
            return problems + self.check_group_manager(src, code, text)
        if src in REACTION_RESULTS:
            return problems + (self.check_reactions(text, where) if code == 0 else [])
        if code == 0 and src == "TIMMsgSendNewMsgEx.msgid_cb":
            ok = isinstance(text, str) and text != ""
            return problems + ([] if ok else [f"{where}: {text!r} is not a message id"])
        shape = self.callback_shape(src.removesuffix(".res_cb")) if code == 0 else ""
        return problems + self.check_text(shape, text, where)

    def check_reactions(self, text: object, where: str) -> list[str]:
        """A reaction function's JSON (an empty string for a change): its objects, nested ones
        included, hold keys of TIMMessageManager.h; a UserInfo's are TIMExperimentalAPI.h's."""
        if text == "":
            return []
        value = json.loads(text) if isinstance(text, str) else None
        if not isinstance(value, (dict, list)):
            return [f"{where}: {text!r} is not JSON"]
        problems: list[str] = []
        for obj in _objects(value):
            user_info = any(key.startswith("user_info_") for key in obj)
            header = "TIMExperimentalAPI.h" if user_info else "TIMMessageManager.h"
            problems += self.all.check_flat(header, obj, where)
        return problems

    def check_group_manager(self, src: str, code: int, text: object) -> list[str]:
        """The success JSON of a ``GROUP_MANAGER_RESULTS`` function (an error's is empty)."""
        expected = GROUP_MANAGER_RESULTS[src] if code == 0 else str
        if expected is str:
            return [] if text == "" else [f"{src}: expected an empty string, got {text!r}"]
        value = json.loads(text) if isinstance(text, str) and text else None
        if not isinstance(value, expected):
            return [f"{src}: {value!r} is not a {expected.__name__}"]
        problems: list[str] = []
        for obj in _objects(value):
            problems += self.all.check_flat("TIMGroupManager.h", obj, src)
            for key, val in obj.items():
                if key.endswith("_result_code"):
                    problems += self.check_code(val, f"{src}.{key}")
        return problems


def _objects(value: Any) -> list[dict[str, Any]]:
    """Every JSON object in ``value``, nested ones included."""
    if isinstance(value, dict):
        return [value, *(o for v in value.values() for o in _objects(v))]
    if isinstance(value, list):
        return [o for v in value for o in _objects(v)]
    return []


class Recorder:
    """Captures every callback and event invocation, for the checker."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def add(self, source: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self.records.append(Record(source, args))

    def wrap(self, source: str, fn: Callable[..., object]) -> Callable[..., None]:
        """``fn`` with its calls recorded under ``source``."""

        def recorded(*args: Any) -> None:
            self.add(source, args)
            fn(*args)

        recorded.recorded_as = source  # type: ignore[attr-defined]
        return recorded

    def snapshot(self) -> list[Record]:
        with self._lock:
            return list(self.records)

    def problems(self, checker: Checker) -> list[str]:
        found: list[str] = []
        for record in self.snapshot():
            found += checker.check_record(record)
        return found


def callback_sources(facts: AllFacts, function: str) -> list[str | None]:
    """For each parameter of ``function``: the source its callback's calls are recorded under
    (the function's name for its ``TIMCommCallback``, ``<function>.<param>`` for a second one;
    the typedef for an event callback), or None for a parameter that is no callback."""
    sources: list[str | None] = []
    comm = [p for p in facts.functions[function]["params"] if p.split()[0] == "TIMCommCallback"]
    for declared in facts.functions[function]["params"]:
        ctype, name = declared.split()[0], param_name(declared)
        if ctype == "TIMCommCallback":
            last = declared == comm[-1]
            sources.append(function if last else f"{function}.{name}")
        elif ctype in facts.callbacks and ctype != "TIMMsgGroupMessageReadMemberListCallback":
            sources.append(ctype)
        else:
            sources.append(None)
    return sources


class Tap:
    """Records the callbacks given to every TIM function of a class (``TIMSDK``'s), whoever
    calls it: each callback argument is replaced by a recording wrapper (the same wrapper for
    the same callable, so that removing a callback finds what was added)."""

    def __init__(self, recorder: Recorder, facts: AllFacts) -> None:
        self.recorder = recorder
        self.facts = facts
        self._wrappers: dict[tuple[str, object], Callable[..., None]] = {}
        self._lock = threading.Lock()

    def wrap(self, source: str | None, fn: object) -> object:
        if source is None or not callable(fn) or hasattr(fn, "recorded_as"):
            return fn
        try:
            key = (source, fn)
            hash(key)
        except TypeError:
            return fn
        with self._lock:
            if key not in self._wrappers:
                self._wrappers[key] = self.recorder.wrap(source, fn)
            return self._wrappers[key]

    def patched(self, function: str, method: Callable[..., Any]) -> Callable[..., Any]:
        """``method`` with its callback arguments recorded."""
        sources = callback_sources(self.facts, function)
        names = self.facts.params(function)

        @functools.wraps(method)
        def call(instance: object, *args: Any, **kwargs: Any) -> Any:
            args = tuple(self.wrap(src, a) for src, a in zip(sources, args, strict=False))
            kwargs = {
                key: self.wrap(sources[names.index(key)] if key in names else None, value)
                for key, value in kwargs.items()
            }
            return method(instance, *args, **kwargs)

        return call
