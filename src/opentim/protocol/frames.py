"""Frame envelopes: what travels in one WebSocket message.

Client → server: ``Request`` (``{"t":"req","id":7,"op":"send","body":{...}}``).
Server → client: ``Response`` to a request id, or ``Push`` (a server-initiated event).
Bodies stay ``msgspec.Raw`` until the op or push kind says which struct they are, so the envelope
is decoded once and each body once.
"""

from __future__ import annotations

import msgspec


class Request(msgspec.Struct, tag="req", tag_field="t", kw_only=True):
    """A client request; ``id`` correlates the response."""

    id: int
    op: str
    body: msgspec.Raw = msgspec.Raw(b"{}")


class Response(msgspec.Struct, tag="res", tag_field="t", kw_only=True, omit_defaults=True):
    """The answer to request ``id``: ``code`` 0 and a body, or an error code and ``desc``."""

    id: int
    code: int = 0
    desc: str = ""
    body: msgspec.Raw = msgspec.Raw(b"{}")


class Push(msgspec.Struct, tag="push", tag_field="t", kw_only=True):
    """A server-initiated event of kind ``kind``."""

    kind: str
    body: msgspec.Raw = msgspec.Raw(b"{}")


ServerFrame = Response | Push
ClientFrame = Request
