"""Request ids and the answers to them, sans I/O.

``open`` gives a request its id and its frame; ``answer`` matches a response frame to the
request still waiting for it, and decodes its body (or the error it carries). The asyncio layer
holds one future per id: it resolves the one ``answer`` names, and ``forget``s an id it gave up
on (a timeout), so that a late answer is dropped like any unknown id. Each request belongs to
the connection it was sent on (``link``, counted by ``connected``): an answer counts only on that
connection, and a connection that ends fails every request still out on it (``lost``), whose
answers can no longer come, and none of the next connection's.
"""

from __future__ import annotations

import msgspec

from opentim.protocol import (
    ErrorCode,
    RemoteProtocolError,
    Request,
    Response,
    decode_body,
    encode,
    raw,
)

from ..exceptions import SdkError, error_of


class Pending(msgspec.Struct, frozen=True, gc=False):
    """A request waiting for its answer."""

    op: str
    result: type[msgspec.Struct]
    link: int


class Answer(msgspec.Struct, frozen=True):
    """The answer to request ``id``: its decoded body, or the error it carries."""

    id: int
    body: msgspec.Struct | None
    error: SdkError | None


class Requests:
    """The requests of one session that wait for an answer."""

    def __init__(self) -> None:
        self._next = 0
        self.link = 0
        """The current connection's number."""
        self.pending: dict[int, Pending] = {}

    def connected(self) -> int:
        """A new connection: requests opened from now on belong to it; its number."""
        self.link += 1
        return self.link

    def open(
        self, op: str, body: msgspec.Struct, result: type[msgspec.Struct], link: int
    ) -> tuple[int, bytes]:
        """A new request to send on connection ``link``: its id (unique for the session's
        life, across connections) and the frame to send."""
        self._next += 1
        self.pending[self._next] = Pending(op, result, link)
        return self._next, encode(Request(id=self._next, op=op, body=raw(body)))

    def answer(self, res: Response, link: int) -> Answer | None:
        """Match a response that came on connection ``link`` to its request, or None: an id
        nobody waits for there (unknown, given up on, or sent on another connection) is
        dropped."""
        pending = self.pending.get(res.id)
        if pending is None or pending.link != link:
            return None
        del self.pending[res.id]
        if res.code:
            return Answer(res.id, None, error_of(res))
        try:
            return Answer(res.id, decode_body(pending.result, res.body), None)
        except RemoteProtocolError as exc:
            error = SdkError(ErrorCode.ERR_PARSE_RESPONSE_FAILED, exc.desc)
            return Answer(res.id, None, error)

    def forget(self, req_id: int) -> None:
        """Stop waiting for ``req_id`` (its caller gave up)."""
        self.pending.pop(req_id, None)

    def lost(self, link: int) -> list[int]:
        """Connection ``link`` ended: the ids of the requests out on it, no longer pending."""
        ids = [i for i, p in self.pending.items() if p.link == link]
        for req_id in ids:
            del self.pending[req_id]
        return ids
