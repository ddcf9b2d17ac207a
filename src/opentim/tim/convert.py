"""TIM JSON ↔ SDK models, and the synchronous argument checks of the TIM layer.

Output: SDK models (``Conversation``, ``Message``, ``Profile``, ``GroupInfo`` …) become the
reference's JSON objects (ConvInfo, Message, UserProfile, GroupBaseInfo …), using only keys from
``keys.py`` with the reference's types. Input: JSON arguments are parsed and checked here; a
bad argument raises ``CallRefusedError`` with the ``TIMResult`` DESIGN §6 gives for it, and the
call then returns that code without calling back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import IntEnum
from typing import Any, TypeVar, cast

import msgspec

from opentim.protocol import (
    Conversation,
    ConvType,
    Draft,
    ErrorCode,
    GroupInfo,
    GroupReport,
    MemberResult,
    Message,
    Profile,
    TIMResult,
    c2c_channel,
    conversation_id,
    group_channel,
    parse_conversation_id,
    valid_marks,
)
from opentim.protocol.exceptions import OpenTimError
from opentim.protocol.limits import MAX_DRAFT_BYTES
from opentim.protocol.ops import ConvResult
from opentim.sdk import ConvFilter, Receipt

from . import keys as k
from .extensions import MESSAGE_VERSION

T = TypeVar("T")

JsonObject = dict[str, Any]

_encoder = msgspec.json.Encoder()

ELEM_SECTIONS: dict[int, str] = {
    k.kTIMElem_Text: "TextElem",
    k.kTIMElem_Image: "ImageElem",
    k.kTIMElem_Sound: "SoundElem",
    k.kTIMElem_Custom: "CustomElem",
    k.kTIMElem_File: "FileElem",
    k.kTIMElem_GroupTips: "GroupTipsElem",
    k.kTIMElem_Face: "FaceElem",
    k.kTIMElem_Location: "LocationElem",
    k.kTIMElem_GroupReport: "GroupReportElem",
    k.kTIMElem_Video: "VideoElem",
    k.kTIMElem_Merge: "MergerElem",
}
"""Which reference section lists the keys of each element type."""


# --- refusals -------------------------------------------------------------------------------
class CallRefusedError(OpenTimError):
    """A call refused synchronously: it returns ``code`` and never calls back."""

    code: TIMResult

    def __init__(self, code: TIMResult, why: str) -> None:
        super().__init__(code, why)
        self.why = why

    def __str__(self) -> str:
        return f"{self.code.name}: {self.why}"


def param_error(why: str) -> CallRefusedError:
    return CallRefusedError(TIMResult.TIM_ERR_PARAM, why)


def json_error(why: str) -> CallRefusedError:
    return CallRefusedError(TIMResult.TIM_ERR_JSON, why)


# --- JSON in --------------------------------------------------------------------------------
def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _matches(declared: str, value: object) -> bool:
    """Whether ``value`` has the JSON type the reference declares (``uint<…>``, ``string`` …)."""
    base = declared.split("<", 1)[0]
    if base == "string":
        return isinstance(value, str)
    if base == "bool":
        return isinstance(value, bool)
    if base in ("int", "int32", "int64"):
        return _is_int(value)
    if base in ("uint", "uint32", "uint64"):
        return _is_int(value) and value >= 0  # type: ignore[operator]
    if base == "double":
        return _is_int(value) or isinstance(value, float)
    if base == "object":
        return isinstance(value, dict)
    if base == "array":
        return isinstance(value, list)
    return True


def key_matches(key: str, value: object) -> bool:
    """Whether ``value`` has the JSON type the reference declares for ``key``."""
    return _matches(k.KEY_TYPES[key], value)


def shown_elems(elems: list[JsonObject]) -> list[JsonObject]:
    """A message's elements as an app sees them: a merger element shows its title and
    abstracts; its messages come with TIMMsgDownloadMergerMessage."""
    if all(e.get(k.ELEM_TYPE) != k.kTIMElem_Merge for e in elems):
        return elems
    return [
        {key: v for key, v in e.items() if key != k.MERGE_ELEM_MESSAGE_ARRAY}
        if e.get(k.ELEM_TYPE) == k.kTIMElem_Merge
        else e
        for e in elems
    ]


def parse_json(text: object, expect: type[T], what: str, *, optional: bool = False) -> T | None:
    """Parse a JSON argument that must be a ``expect`` (``dict`` or ``list``).

    Args:
        text: the argument as passed.
        expect: ``dict`` or ``list``.
        what: the parameter's name, for messages.
        optional: whether ``None`` (C NULL), ``""`` and ``"null"`` (what a wrapper passes for a
            null object) mean "not given" (returns None).

    Raises:
        CallRefusedError: ``TIM_ERR_PARAM`` for a non-string, ``TIM_ERR_JSON`` when it does not
            parse or is not the expected object/array.
    """
    if text is None or text == "":
        if optional:
            return None
        if text is None:
            raise param_error(f"{what} is required")
        raise json_error(f"{what} is empty")
    if not isinstance(text, str):
        raise param_error(f"{what} must be a str, not {type(text).__name__}")
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise json_error(f"{what} is not JSON: {exc}") from exc
    if value is None and optional:
        return None
    if not isinstance(value, expect):
        raise json_error(f"{what} must be a JSON {'object' if expect is dict else 'array'}")
    return value


def check_section(obj: JsonObject, section: str) -> None:
    """Refuse (``TIM_ERR_PARAM``) a key of the reference section ``section`` that ``obj`` holds
    with another JSON type than the reference declares; other keys are left alone."""
    for key in k.SECTION_KEYS[section] & obj.keys():
        if obj[key] is not None and not _matches(k.KEY_TYPES[key], obj[key]):
            raise param_error(f"{key} must be a {k.KEY_TYPES[key]}")


def need_object(text: object, what: str) -> JsonObject:
    obj = parse_json(text, dict, what)
    assert obj is not None
    return obj


def field(obj: JsonObject, key: str, default: T, check: Callable[[object], bool]) -> T:
    """``obj[key]``, or ``default`` when absent or null; ``TIM_ERR_PARAM`` when ill-typed."""
    value = obj.get(key)
    if value is None:
        return default
    if not check(value):
        raise param_error(f"{key} has the wrong type")
    return cast(T, value)


def opt_obj(obj: JsonObject, key: str) -> JsonObject:
    empty: JsonObject = {}
    return field(obj, key, empty, lambda v: isinstance(v, dict))


def opt_list(obj: JsonObject, key: str) -> list[Any]:
    empty: list[Any] = []
    return field(obj, key, empty, lambda v: isinstance(v, list))


def in_enum(value: int, enum: type[IntEnum], what: str) -> int:
    """``value`` when it is one of ``enum``'s values, else ``TIM_ERR_PARAM``."""
    if value not in {member.value for member in enum}:
        raise param_error(f"{what} {value} is not a {enum.__name__}")
    return value


def opt_str(obj: JsonObject, key: str, default: str = "") -> str:
    return field(obj, key, default, lambda v: isinstance(v, str))


def opt_bool(obj: JsonObject, key: str, default: bool = False) -> bool:
    return field(obj, key, default, lambda v: isinstance(v, bool))


def opt_uint(obj: JsonObject, key: str, default: int = 0) -> int:
    return field(obj, key, default, lambda v: _is_int(v) and 0 <= v < 2**64)  # type: ignore[operator]


def opt_str_list(obj: JsonObject, key: str) -> list[str]:
    return field(
        obj,
        key,
        [],
        lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
    )


def need_str(value: object, what: str) -> str:
    """A required, non-empty string argument."""
    if not isinstance(value, str):
        raise param_error(f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise param_error(f"{what} is empty")
    return value


def need_int(value: object, what: str) -> int:
    """An integer argument (``bool`` is refused: it is a different C type)."""
    if not _is_int(value):
        raise param_error(f"{what} must be an int, not {type(value).__name__}")
    assert isinstance(value, int)
    return value


def need_bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise param_error(f"{what} must be a bool, not {type(value).__name__}")
    return value


def need_callback(cb: object) -> Callable[..., object]:
    """A ``TIMCommCallback`` is required where the reference takes one."""
    if cb is None:
        raise param_error("cb is required")
    if not callable(cb):
        raise param_error("cb must be callable")
    return cb


def check_buffer(buffer: object, what: str) -> bytearray | None:
    """A C output buffer: ``None`` or a ``bytearray``."""
    if buffer is not None and not isinstance(buffer, bytearray):
        raise param_error(f"{what} must be None or a bytearray")
    return buffer


def fill_buffer(buffer: bytearray | None, text: str) -> None:
    """Write ``text`` as UTF-8 and a terminating NUL, as C does; grow the buffer if needed."""
    if buffer is None:
        return
    data = text.encode() + b"\0"
    if len(buffer) >= len(data):
        buffer[: len(data)] = data
    else:
        buffer[:] = data


def conv_key(conv_id: object, conv_type: object) -> tuple[ConvType, str]:
    """The ``(conv_id, conv_type)`` pair of the older conversation functions.

    Raises:
        CallRefusedError: ``TIM_ERR_PARAM`` for a wrong type or an empty id, ``TIM_ERR_CONV`` for a
            ``conv_type`` that is not C2C or Group.
    """
    cid = need_str(conv_id, "the conversation id")
    kind = need_int(conv_type, "the conversation type")
    if kind not in (k.kTIMConv_C2C, k.kTIMConv_Group):
        raise CallRefusedError(
            TIMResult.TIM_ERR_CONV, f"conv_type {kind} is not C2C (1) or Group (2)"
        )
    return ConvType(kind), cid


def uint_arg(value: object, what: str, bits: int = 64) -> int:
    """An unsigned integer argument (``uint64_t``, ``uint32_t`` …)."""
    number = need_int(value, what)
    if not 0 <= number < 1 << bits:
        raise param_error(f"{what} must be a uint{bits}")
    return number


def mark_arg(value: object) -> int:
    """``mark_type``: built-in bits (Star, Unread, Fold, Hide) and app bits 32-63 only."""
    mark = uint_arg(value, "mark_type")
    if not valid_marks(mark):
        raise param_error(f"mark_type {mark:#x} is not built-in marks or bits 32-63")
    return mark


ConvIdArg = tuple[str, tuple[ConvType, str] | None]
"""A conversation-id string as the app gave it, and its ``(conv_type, conv_id)`` (None when it
is not ``c2c_<user>`` / ``group_<group>``)."""


def conv_ids_in(text: object, what: str) -> list[ConvIdArg]:
    """A JSON array of conversation-id strings (``c2c_<user>``, ``group_<group>``).

    Raises:
        CallRefusedError: ``TIM_ERR_JSON`` when it is not a JSON array, ``TIM_ERR_PARAM`` when
            it is empty or holds something other than strings.
    """
    items = parse_json(text, list, what)
    assert items is not None
    if not items:
        raise param_error(f"{what} is empty")
    if not all(isinstance(item, str) for item in items):
        raise param_error(f"{what} must be an array of strings")
    return [(item, parse_conversation_id(item)) for item in items]


def op_results(ids: list[ConvIdArg], results: list[ConvResult]) -> list[JsonObject]:
    """TIMConversationOperationResult per id, in the order given; ids that are not
    conversation ids get 6004."""
    by_key = {(r.conv_type, r.conv_id): r for r in results}
    out: list[JsonObject] = []
    for raw, key in ids:
        found = by_key.get(key) if key is not None else None
        code, info = (
            (found.code, found.desc)
            if found
            else (int(ErrorCode.ERR_INVALID_CONVERSATION), "not a conversation id")
        )
        out.append(
            {
                k.CONVERSATION_OPERATION_RESULT_CONVERSATION_ID: raw,
                k.CONVERSATION_OPERATION_RESULT_RESULT_CODE: code,
                k.CONVERSATION_OPERATION_RESULT_RESULT_INFO: info,
            }
        )
    return out


def filter_in(text: object, what: str = "filter") -> ConvFilter:
    """A TIMConversationListFilter; an absent key does not filter. ``conv_type`` 0 (or absent)
    is any type; ``conversation_group`` ``""`` is "in no group"; ``mark_type`` 0 is "no mark".

    Raises:
        CallRefusedError: ``TIM_ERR_JSON`` (not an object), ``TIM_ERR_PARAM`` (a key of the
            wrong type, a mark that is not a mark), ``TIM_ERR_CONV`` (``conv_type`` neither
            C2C nor Group).
    """
    obj = parse_json(text, dict, what, optional=True) or {}
    conv_type = obj.get(k.CONVERSATION_LIST_FILTER_CONV_TYPE)
    if conv_type is not None:
        conv_type = need_int(conv_type, k.CONVERSATION_LIST_FILTER_CONV_TYPE)
        if conv_type == k.kTIMConv_Invalid:
            conv_type = None
        elif conv_type not in (k.kTIMConv_C2C, k.kTIMConv_Group):
            raise CallRefusedError(TIMResult.TIM_ERR_CONV, f"conv_type {conv_type} in {what}")
    group = obj.get(k.CONVERSATION_LIST_FILTER_CONVERSATION_GROUP)
    if group is not None and not isinstance(group, str):
        raise param_error(f"{k.CONVERSATION_LIST_FILTER_CONVERSATION_GROUP} must be a string")
    mark = obj.get(k.CONVERSATION_LIST_FILTER_MARK_TYPE)
    if mark is not None:
        mark = uint_arg(mark, k.CONVERSATION_LIST_FILTER_MARK_TYPE)
        if mark:
            mark = mark_arg(mark)
    unread = obj.get(k.CONVERSATION_LIST_FILTER_HAS_UNREAD_COUNT)
    if unread is not None:
        unread = need_bool(unread, k.CONVERSATION_LIST_FILTER_HAS_UNREAD_COUNT)
    at = obj.get(k.CONVERSATION_LIST_FILTER_HAS_GROUP_AT_INFO)
    if at is not None:
        at = need_bool(at, k.CONVERSATION_LIST_FILTER_HAS_GROUP_AT_INFO)
    return ConvFilter(conv_type=conv_type, group=group, mark=mark, has_unread=unread, has_at=at)


def filter_json(conv_filter: ConvFilter) -> JsonObject:
    """A filter as TIMConversationListFilter JSON: the keys it filters on."""
    out: JsonObject = {}
    if conv_filter.conv_type is not None:
        out[k.CONVERSATION_LIST_FILTER_CONV_TYPE] = conv_filter.conv_type
    if conv_filter.group is not None:
        out[k.CONVERSATION_LIST_FILTER_CONVERSATION_GROUP] = conv_filter.group
    if conv_filter.mark is not None:
        out[k.CONVERSATION_LIST_FILTER_MARK_TYPE] = conv_filter.mark
    if conv_filter.has_unread is not None:
        out[k.CONVERSATION_LIST_FILTER_HAS_UNREAD_COUNT] = conv_filter.has_unread
    if conv_filter.has_at is not None:
        out[k.CONVERSATION_LIST_FILTER_HAS_GROUP_AT_INFO] = conv_filter.has_at
    return out


def receipt_json(receipt: Receipt) -> JsonObject:
    """A MessageReceipt for a C2C read report: the peer read up to ``time``."""
    return {
        k.MSG_RECEIPT_CONV_ID: receipt.reader,
        k.MSG_RECEIPT_CONV_TYPE: k.kTIMConv_C2C,
        k.MSG_RECEIPT_MSG_ID: receipt.msg_id,
        k.MSG_RECEIPT_TIME_STAMP: receipt.time,
        k.MSG_RECEIPT_IS_PEER_READ: True,
    }


def group_tip_json(msg: Message) -> JsonObject | None:
    """The GroupTipsElem of a tips message (without ``elem_type``), or None."""
    for elem in msg.elems:
        if elem.get(k.ELEM_TYPE) == k.kTIMElem_GroupTips:
            return {key: value for key, value in elem.items() if key != k.ELEM_TYPE}
    return None


def group_report_json(report: GroupReport, me: str) -> JsonObject:
    """A group report (join request, its acceptance or refusal) as the Message an app gets
    through TIMRecvNewMsgCallback: a system message (``kTIMConv_System``) of the group, with
    one GroupReportElem. It is not stored: it comes once, to the devices online."""
    elem = {
        k.ELEM_TYPE: k.kTIMElem_GroupReport,
        k.GROUP_REPORT_ELEM_REPORT_TYPE: report.report_type,
        k.GROUP_REPORT_ELEM_GROUP_ID: report.group_id,
        k.GROUP_REPORT_ELEM_OP_USER: report.op_user,
        k.GROUP_REPORT_ELEM_MSG: report.msg,
        k.GROUP_REPORT_ELEM_USER_DATA: "",
    }
    msg = Message(
        msg_id=f"report-{report.group_id}-{report.report_type}-{report.op_user}-{report.time}",
        conv_type=k.kTIMConv_System,
        sender=report.op_user,
        receiver=report.group_id,
        elems=[elem],
        server_time=report.time,
        client_time=report.time,
        excluded_from_unread=True,
    )
    out = message_json(msg, me, 0)
    out[k.MESSAGE_CONV_ID] = report.group_id
    return out


def conversation_id_of(conv: Conversation) -> str:
    """``c2c_<user>`` / ``group_<group>`` of a conversation."""
    return conversation_id(conv.conv_type, conv.conv_id)


def elems_in(value: object) -> list[JsonObject]:
    """``message_elem_array`` of an outgoing message or draft: a non-empty array of elements.

    Keys the reference does not define for an element's type are dropped, as the reference SDK
    drops what it does not know; a known key with the wrong type is refused.
    """
    if not isinstance(value, list) or not value:
        raise param_error(f"{k.MESSAGE_ELEM_ARRAY} must be a non-empty array")
    out: list[JsonObject] = []
    for elem in value:
        if not isinstance(elem, dict):
            raise param_error("every element must be an object")
        kind = elem.get(k.ELEM_TYPE)
        if not _is_int(kind):
            raise param_error(f"every element needs an integer {k.ELEM_TYPE}")
        section = ELEM_SECTIONS.get(kind)  # type: ignore[arg-type]
        allowed = k.SECTION_KEYS[section] if section else frozenset()
        clean: JsonObject = {k.ELEM_TYPE: kind}
        for key, item in elem.items():
            if key in allowed and item is not None:
                if not _matches(k.KEY_TYPES[key], item):
                    raise param_error(f"{key} has the wrong type")
                clean[key] = item
        out.append(clean)
    return out


def draft_in(text: object) -> Draft:
    """A Draft object (``draft_msg``, ``draft_user_define``). ``draft_edit_time`` is ignored,
    whatever it holds (seconds, milliseconds, .NET ticks): it is read-only in the reference's
    headers, and the SDK stamps each edit itself (``Draft.edit_time`` stays 0 here).

    Raises:
        CallRefusedError: ``TIM_ERR_JSON``/``TIM_ERR_PARAM`` as ``parse_json``;
            ``TIM_ERR_PARAM`` when the draft is over 12 KB (DESIGN §7).
    """
    if isinstance(text, str) and len(text.encode()) > MAX_DRAFT_BYTES:
        raise param_error(f"draft over {MAX_DRAFT_BYTES} bytes")
    obj = need_object(text, "json_draft_param")
    msg = opt_obj(obj, k.DRAFT_MSG)
    draft_msg: JsonObject = {}
    if msg.get(k.MESSAGE_ELEM_ARRAY) is not None:
        draft_msg[k.MESSAGE_ELEM_ARRAY] = elems_in(msg[k.MESSAGE_ELEM_ARRAY])
    draft = Draft(msg=draft_msg, user_define=opt_str(obj, k.DRAFT_USER_DEFINE))
    if len(_encoder.encode(draft)) > MAX_DRAFT_BYTES:
        raise param_error(f"draft over {MAX_DRAFT_BYTES} bytes")
    return draft


# --- JSON out -------------------------------------------------------------------------------
def encode(value: object) -> bytes:
    """Compact UTF-8 JSON."""
    return _encoder.encode(value)


def dumps(value: object) -> str:
    """Compact JSON text, as every callback receives it."""
    return _encoder.encode(value).decode()


def unique_id(msg: Message) -> int:
    """``message_unique_id``: a stable id from the message's channel and seq, below 2^63 so
    that readers holding it in a signed 64-bit integer (jsoncpp's ``asInt64``, Java's
    ``long``) read it as it is."""
    channel = (
        c2c_channel(msg.sender, msg.receiver)
        if msg.conv_type == ConvType.C2C
        else group_channel(msg.receiver)
    )
    digest = hashlib.blake2b(f"{channel}#{msg.seq}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def profile_json(profile: Profile | None, user_id: str) -> JsonObject:
    """A UserProfile (``user_profile_*``) from a protocol Profile (empty fields when unknown)."""
    p = profile if profile is not None else Profile(user_id=user_id)
    return {
        k.USER_PROFILE_IDENTIFIER: p.user_id,
        k.USER_PROFILE_NICK_NAME: p.nick,
        k.USER_PROFILE_GENDER: p.gender,
        k.USER_PROFILE_FACE_URL: p.face_url,
        k.USER_PROFILE_SELF_SIGNATURE: p.self_signature,
        k.USER_PROFILE_ADD_PERMISSION: p.add_permission,
        k.USER_PROFILE_LOCATION: p.location,
        k.USER_PROFILE_LANGUAGE: p.language,
        k.USER_PROFILE_BIRTHDAY: p.birthday,
        k.USER_PROFILE_LEVEL: p.level,
        k.USER_PROFILE_ROLE: p.role,
        k.USER_PROFILE_CUSTOM_STRING_ARRAY: [],
    }


def message_json(msg: Message, me: str, read_seq: int, peer_read_seq: int = 0) -> JsonObject:
    """A Message as ``me`` sees it; ``read_seq`` is ``me``'s read position in its conversation,
    ``peer_read_seq`` the C2C peer's.

    ``message_is_read``: sent by ``me``, or at or below the read position.
    ``message_is_peer_read``: a C2C message of ``me``'s at or below the peer's read position.
    A revoked message has status Revoked (6), no elements, and the revoker's id.
    ``message_version`` counts its modifications (``TIMMsgModifyMessage``).
    """
    from_self = msg.sender == me
    out: JsonObject = {
        k.MESSAGE_ELEM_ARRAY: shown_elems(msg.elems),
        k.MESSAGE_CONV_ID: msg.conv_id_for(me),
        k.MESSAGE_CONV_TYPE: msg.conv_type,
        k.MESSAGE_SENDER: msg.sender,
        k.MESSAGE_SENDER_PROFILE: profile_json(msg.sender_profile, msg.sender),
        k.MESSAGE_PRIORITY: msg.priority,
        k.MESSAGE_CLIENT_TIME: msg.client_time,
        k.MESSAGE_SERVER_TIME: msg.server_time,
        k.MESSAGE_IS_FROM_SELF: from_self,
        k.MESSAGE_PLATFORM: msg.platform,
        k.MESSAGE_IS_READ: from_self or msg.seq <= read_seq,
        k.MESSAGE_IS_ONLINE_MSG: False,
        k.MESSAGE_IS_PEER_READ: from_self
        and msg.conv_type == ConvType.C2C
        and msg.seq <= peer_read_seq,
        k.MESSAGE_STATUS: k.kTIMMsg_Revoked if msg.revoker else k.kTIMMsg_SendSucc,
        k.MESSAGE_UNIQUE_ID: unique_id(msg),
        k.MESSAGE_MSG_ID: msg.msg_id,
        k.MESSAGE_RAND: msg.random,
        k.MESSAGE_SEQ: msg.seq,
        k.MESSAGE_CUSTOM_INT: 0,
        k.MESSAGE_CUSTOM_STR: "",
        k.MESSAGE_CLOUD_CUSTOM_STR: msg.cloud_custom_data,
        k.MESSAGE_IS_EXCLUDED_FROM_UNREAD_COUNT: msg.excluded_from_unread,
        k.MESSAGE_EXCLUDED_FROM_LAST_MESSAGE: msg.excluded_from_last,
        k.MESSAGE_GROUP_AT_USER_ARRAY: msg.at_users,
        MESSAGE_VERSION: msg.version,
        k.MESSAGE_SUPPORT_MESSAGE_EXTENSION: msg.supports_extensions,
    }
    if msg.revoker:
        out[k.MESSAGE_REVOKER_USER_ID] = msg.revoker
        out[k.MESSAGE_REVOKE_REASON] = msg.revoke_reason
    return out


def mark_array(marks: int) -> list[int]:
    """``conv_mark_array``: each mark bit set, as its own uint64 value, lowest first."""
    out: list[int] = []
    while marks:
        low = marks & -marks
        out.append(low)
        marks ^= low
    return out


def draft_json(draft: Draft) -> JsonObject:
    return {
        k.DRAFT_MSG: draft.msg,
        k.DRAFT_USER_DEFINE: draft.user_define,
        k.DRAFT_EDIT_TIME: draft.edit_time,
    }


def conv_info(conv: Conversation, me: str) -> JsonObject:
    """A ConvInfo. ``conv_last_msg`` only with ``conv_is_has_lastmsg``, ``conv_draft`` only with
    ``conv_is_has_draft`` (as the seed's example); ``conv_active_time`` is the order key, bit 62
    set when pinned.

    ``conv_c2c_read_timestamp`` is the server time of the last message when it is read, else 0
    (opentim reads by seq, not by time).
    """
    last = conv.last_msg
    info: JsonObject = {
        k.CONV_ID: conv.conv_id,
        k.CONV_TYPE: conv.conv_type,
        k.CONV_SHOW_NAME: conv.show_name or conv.conv_id,
        k.CONV_FACE_URL: conv.face_url,
        k.CONV_UNREAD_NUM: conv.unread,
        k.CONV_ACTIVE_TIME: conv.order_key,
        k.CONV_IS_HAS_LASTMSG: last is not None,
        k.CONV_IS_HAS_DRAFT: conv.draft is not None,
        k.CONV_IS_PINNED: conv.pinned,
        k.CONV_RECV_OPT: conv.recv_opt,
        k.CONV_GROUP_AT_INFO_ARRAY: [
            {k.CONV_GROUP_AT_INFO_SEQ: a.seq, k.CONV_GROUP_AT_INFO_AT_TYPE: a.at_type}
            for a in conv.at_info
        ],
        k.CONV_MARK_ARRAY: mark_array(conv.marks),
        k.CONV_CUSTOM_DATA: conv.custom_data,
        k.CONV_CONVERSATION_GROUP_ARRAY: conv.groups,
    }
    if last is not None:
        info[k.CONV_LAST_MSG] = message_json(last, me, conv.read_seq, conv.peer_read_seq)
    if conv.draft is not None:
        info[k.CONV_DRAFT] = draft_json(conv.draft)
    if conv.conv_type == ConvType.GROUP:
        info[k.CONV_GROUP_TYPE] = conv.group_type
        info[k.CONV_GROUP_READ_SEQUENCE] = conv.read_seq
    else:
        read = last is not None and last.seq <= conv.read_seq
        info[k.CONV_C2C_READ_TIMESTAMP] = last.server_time if read and last else 0
    return info


def group_base_info(group: GroupInfo, recv_opt: int) -> JsonObject:
    """A GroupBaseInfo with its GroupSelfInfo; ``recv_opt`` is the caller's receive option."""
    return {
        k.GROUP_BASE_INFO_GROUP_ID: group.group_id,
        k.GROUP_BASE_INFO_GROUP_NAME: group.name,
        k.GROUP_BASE_INFO_GROUP_TYPE: group.group_type,
        k.GROUP_BASE_INFO_FACE_URL: group.face_url,
        k.GROUP_BASE_INFO_INFO_SEQ: group.info_seq,
        k.GROUP_BASE_INFO_LATEST_SEQ: group.max_seq,
        k.GROUP_BASE_INFO_READED_SEQ: group.self_read_seq,
        k.GROUP_BASE_INFO_MSG_FLAG: recv_opt,
        k.GROUP_BASE_INFO_IS_SHUTUP_ALL: group.shutup_all,
        k.GROUP_BASE_INFO_SELF_INFO: {
            k.GROUP_SELF_INFO_JOIN_TIME: group.self_join_time,
            k.GROUP_SELF_INFO_ROLE: group.self_role,
            k.GROUP_SELF_INFO_UNREAD_NUM: group.self_unread,
            k.GROUP_SELF_INFO_MSG_FLAG: recv_opt,
        },
    }


def invite_results(results: list[MemberResult]) -> list[JsonObject]:
    return [
        {
            k.GROUP_INVITE_MEMBER_RESULT_IDENTIFIER: r.user_id,
            k.GROUP_INVITE_MEMBER_RESULT_RESULT: r.result,
        }
        for r in results
    ]


def delete_results(results: list[MemberResult]) -> list[JsonObject]:
    return [
        {
            k.GROUP_DELETE_MEMBER_RESULT_IDENTIFIER: r.user_id,
            k.GROUP_DELETE_MEMBER_RESULT_RESULT: r.result,
        }
        for r in results
    ]
