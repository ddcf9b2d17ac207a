"""The PROXY protocol parser (sans-I/O): v1 and v2, partial input, malformed headers."""

from __future__ import annotations

import socket
import struct

import pytest

from opentim.server.gateway.proxy import (
    ProxyHeaderError,
    is_trusted,
    parse_header,
    parse_networks,
)

V2 = b"\r\n\r\n\x00\r\nQUIT\n"


def test_v1() -> None:
    line = b"PROXY TCP4 203.0.113.7 10.0.0.1 40000 9000\r\nGET /ws"
    assert parse_header(line) == ("203.0.113.7", len(line) - len(b"GET /ws"))
    six = b"PROXY TCP6 2001:db8::1 ::1 1 2\r\n"
    assert parse_header(six) == ("2001:db8::1", len(six))
    assert parse_header(b"PROXY UNKNOWN\r\n") == (None, 15)
    for partial in (b"P", b"PROXY TCP4 203.0.113.7"):
        assert parse_header(partial) is None


@pytest.mark.parametrize(
    "bad",
    [
        b"PROXY TCP4 203.0.113.7 10.0.0.1 40000\r\n",
        b"PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n",
        b"PROXY TCP4 203.0.113.7 10.0.0.1 1 99999\r\n",
        b"PROXY TCP9 a b 1 2\r\n",
        b"PROXY " + b"x" * 200,
    ],
)
def test_v1_malformed(bad: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        parse_header(bad)


def test_v2() -> None:
    addrs = socket.inet_aton("203.0.113.7") + socket.inet_aton("10.0.0.1") + b"\0\1\0\2"
    header = V2 + b"\x21\x11" + struct.pack("!H", 12) + addrs
    assert parse_header(header + b"GET") == ("203.0.113.7", 28)
    assert parse_header(header[:20]) is None
    six = socket.inet_pton(socket.AF_INET6, "2001:db8::1") + bytes(16) + b"\0\1\0\2"
    assert parse_header(V2 + b"\x21\x21" + struct.pack("!H", 36) + six) == ("2001:db8::1", 52)
    assert parse_header(V2 + b"\x20\x00\x00\x00") == (None, 16)  # LOCAL: a health check
    with pytest.raises(ProxyHeaderError):
        parse_header(V2 + b"\x31\x11\x00\x00")


def test_no_header_and_trust() -> None:
    assert parse_header(b"GET /ws HTTP/1.1\r\n") == (None, 0)
    nets = parse_networks(["10.0.0.5", "10.1.0.0/16"])
    assert is_trusted("10.1.2.3", nets)
    assert is_trusted("::ffff:10.0.0.5", nets)
    assert not is_trusted("10.0.0.6", nets)
    assert not is_trusted("10.0.0.5", [])
    with pytest.raises(ValueError, match="trusted_proxies"):
        parse_networks(["nonsense"])
