"""Wire models of message reactions: the request bodies of their ops (``ops.OPS``) and the
``reactions`` push that tells every device of the conversation's members of a change."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from .models import Req, Struct
from .ranges import U32, U64
from .rules.reactions import MAX_MSGS_PER_READ, MAX_PARTIAL_USERS


class Reaction(Struct):
    """One reaction of a message: how many users have it and the first of them."""

    reaction_id: str
    total: int = 0
    users: list[str] = []
    """The first users (as many as asked, at most ``MAX_PARTIAL_USERS``), oldest first."""
    by_me: bool = False
    """Whether the asking user has it (a push, sent to many, leaves it false)."""


class ReactionReq(Req):
    """Add or remove the caller's ``reaction_id`` on one message (by seq; ``msg_id``, when
    given, must match)."""

    conv_type: U32
    conv_id: str
    seq: U64
    reaction_id: str
    msg_id: str = ""


class MsgReactions(Struct):
    """One message's reactions, or why they could not be read (``code``)."""

    seq: int
    msg_id: str = ""
    reactions: list[Reaction] = []
    code: int = 0
    desc: str = ""


class ReactionsGetReq(Req):
    conv_type: U32
    conv_id: str
    seqs: Annotated[list[U64], Meta(max_length=MAX_MSGS_PER_READ)]
    max_users: Annotated[int, Meta(ge=0, le=MAX_PARTIAL_USERS)] = MAX_PARTIAL_USERS


class ReactionsGetRes(Struct):
    results: list[MsgReactions]


class ReactionUsersReq(Req):
    conv_type: U32
    conv_id: str
    seq: U64
    reaction_id: str
    start: U32 = 0
    count: U32 = 20


class ReactionUsersRes(Struct):
    users: list[str]
    next_start: int = 0
    """Where the next page starts; 0 at the end."""


class ReactionPush(Struct):
    """A message's reaction changed: the reaction as it is now (``total`` 0: it is gone)."""

    conv_type: int
    sender: str
    receiver: str
    """The message's sender and receiver (the group id, or the C2C peer): each device finds
    its own conversation from them (``ids.conv_of_message``)."""
    seq: int
    msg_id: str
    reaction: Reaction
    user_id: str
    """Who added or removed it."""


REACTION_OPS: dict[str, tuple[type[Struct], type[Struct]]] = {
    "reaction_add": (ReactionReq, MsgReactions),
    "reaction_remove": (ReactionReq, MsgReactions),
    "reactions_get": (ReactionsGetReq, ReactionsGetRes),
    "reaction_users": (ReactionUsersReq, ReactionUsersRes),
}
REACTION_READ_OPS = frozenset({"reactions_get", "reaction_users"})
REACTION_PUSHES: dict[str, type[Struct]] = {"reactions": ReactionPush}
