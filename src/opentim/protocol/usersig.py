"""UserSig in Tencent's public TLSSigAPIv2 format, as pure functions (the caller passes the time).

A sig is zlib-compressed JSON with ``TLS.ver`` "2.0", ``TLS.identifier``, ``TLS.sdkappid``,
``TLS.expire``, ``TLS.time`` and ``TLS.sig`` (base64 HMAC-SHA256 keyed with the secret key's UTF-8
bytes over ``TLS.<field>:<value>\\n`` lines), then base64 with ``+/=`` → ``*-_`` (DESIGN §2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any

from .codes import ErrorCode
from .exceptions import RemoteProtocolError
from .limits import MAX_USERSIG_CHARS, MAX_USERSIG_JSON_BYTES

DEFAULT_EXPIRE = 180 * 86400
"""How long a minted sig stays valid unless told otherwise: 180 days, in seconds."""
DEFAULT_SDKAPPID = 1400000000
"""The SDKAppID a server serves and a client and a sig name unless told otherwise."""

_TO_URL = str.maketrans({"+": "*", "/": "-", "=": "_"})
_FROM_URL = str.maketrans({"*": "+", "-": "/", "_": "="})


def _signature(
    key: str, identifier: str, sdkappid: int, time: int, expire: int, userbuf: str | None
) -> str:
    content = (
        f"TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\n"
        f"TLS.time:{time}\nTLS.expire:{expire}\n"
    )
    if userbuf is not None:
        content += f"TLS.userbuf:{userbuf}\n"
    digest = hmac.new(key.encode(), content.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def make_usersig(
    key: str, sdkappid: int, identifier: str, now: int, expire: int = DEFAULT_EXPIRE
) -> str:
    """Mint a UserSig valid from ``now`` for ``expire`` seconds."""
    doc = {
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": now,
        "TLS.sig": _signature(key, identifier, sdkappid, now, expire, None),
    }
    packed = zlib.compress(json.dumps(doc).encode())
    return base64.b64encode(packed).decode().translate(_TO_URL)


def _inflate(sig: str) -> bytes:
    """The sig's JSON, inflated at most to ``MAX_USERSIG_JSON_BYTES``: a sig that is longer, or
    that would inflate further (a zlib bomb), is refused before it costs memory or time."""
    if len(sig) > MAX_USERSIG_CHARS:
        raise ValueError("UserSig too long")
    inflater = zlib.decompressobj()
    out = inflater.decompress(base64.b64decode(sig.translate(_FROM_URL)), MAX_USERSIG_JSON_BYTES)
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("UserSig inflates too far, or is truncated")
    return out


def verify_usersig(key: str, sdkappid: int, identifier: str, sig: str, now: int) -> int:
    """Check a UserSig; return its expiry time (unix seconds) or raise with the login code.

    Raises:
        RemoteProtocolError: 70003 undecodable or forged, 70001 expired, 70013 issued for another
            identifier, 70014 issued for another sdkappid.
    """
    try:
        doc: dict[str, Any] = json.loads(_inflate(sig))
        ident = str(doc["TLS.identifier"])
        appid = int(doc["TLS.sdkappid"])
        time = int(doc["TLS.time"])
        expire = int(doc["TLS.expire"])
        given = str(doc["TLS.sig"])
        userbuf = doc.get("TLS.userbuf")
    except (ValueError, TypeError, KeyError, zlib.error) as exc:
        raise RemoteProtocolError(
            ErrorCode.ERR_SVR_ACCOUNT_USERSIG_CHECK_FAILED, "UserSig cannot be decoded"
        ) from exc
    buf = None if userbuf is None else str(userbuf)
    expected = _signature(key, ident, appid, time, expire, buf)
    if not hmac.compare_digest(expected, given):
        raise RemoteProtocolError(
            ErrorCode.ERR_SVR_ACCOUNT_USERSIG_CHECK_FAILED, "UserSig signature is invalid"
        )
    if appid != sdkappid:
        raise RemoteProtocolError(
            ErrorCode.ERR_SVR_ACCOUNT_USERSIG_MISMATCH_SDKAPPID, "UserSig is for another sdkappid"
        )
    if ident != identifier:
        raise RemoteProtocolError(
            ErrorCode.ERR_SVR_ACCOUNT_USERSIG_MISMATCH_ID, "UserSig is for another user id"
        )
    if time + expire < now:
        raise RemoteProtocolError(ErrorCode.ERR_SVR_ACCOUNT_USERSIG_EXPIRED, "UserSig expired")
    return time + expire
