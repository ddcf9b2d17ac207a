"""Sync tokens: where a device's conversation sync stands, opaque to the app.

A token is a versioned struct, base64-encoded. A device with no token starts a *full pass*: the
server notes its clock (the horizon) and pages the user's conversations by key, which costs the
same for every page. When the pass ends, the token becomes *incremental* from the horizon, so
whatever changed during the pass comes next; from then on the device asks only for changes after
its position (DESIGN §3).

A token also names the database it came from (``db``, the server's database identity). A server
that gets a token from another database (a new one, or a restored backup: ``opentim restore``
gives it a new identity), a token from before identities existed, or a token whose position is
beyond its own clock (its history is older than what the device saw), does not read it: it starts
a full pass and says so (``SyncRes.reset``), and the device resyncs from the server's state.
"""

from __future__ import annotations

import base64
import binascii

import msgspec

from .codes import ErrorCode
from .exceptions import RemoteProtocolError
from .ranges import U32, Pos

VERSION = 1


FRESH, FULL, INCREMENTAL = 0, 1, 2
"""Phases: nothing synced yet; in a full pass; past it, asking for changes only."""


class SyncToken(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True):
    """In a full pass, conversations after the key ``(after_type, after_id)`` are still to come
    and ``horizon`` is the clock at the pass's start; when incremental, changes after ``pos``.
    ``db`` is the identity of the database the positions belong to (0: a token made before
    identities existed)."""

    v: int = VERSION
    db: int = 0
    phase: int = FRESH
    pos: Pos = 0
    horizon: Pos = 0
    after_type: U32 = 0
    after_id: str = ""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(SyncToken)


def encode_token(token: SyncToken) -> str:
    """The token as an opaque string (``""`` for a fresh one)."""
    if token == SyncToken():
        return ""
    return base64.urlsafe_b64encode(_encoder.encode(token)).decode()


def parse_token(text: str) -> SyncToken:
    """Parse a token string; ``""`` is a fresh token.

    Raises:
        RemoteProtocolError: 6017 for a token that is not one of ours or has a newer version.
    """
    if not text:
        return SyncToken()
    try:
        token = _decoder.decode(base64.urlsafe_b64decode(text.encode()))
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise RemoteProtocolError(ErrorCode.ERR_INVALID_PARAMETERS, "bad sync token") from exc
    if token.v != VERSION:
        raise RemoteProtocolError(ErrorCode.ERR_INVALID_PARAMETERS, "unknown sync token version")
    return token
