"""The PROXY protocol (HAProxy's, v1 text and v2 binary): a load balancer's first bytes on a
connection name the client's address. Read only from configured trusted peers
(``ServerConfig.trusted_proxies``); sans-I/O.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable

from opentim.protocol import ErrorCode, RemoteProtocolError

V1_PREFIX = b"PROXY "
V1_MAX = 107
"""The longest v1 line, CRLF included (the specification's figure)."""
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_MAX = 16 + 65535

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxyHeaderError(RemoteProtocolError):
    """The bytes start like a PROXY header but are not a valid one."""

    def __init__(self, desc: str) -> None:
        super().__init__(ErrorCode.ERR_INVALID_PARAMETERS, desc)


def parse_networks(specs: Iterable[str]) -> list[Network]:
    """``["10.0.0.5", "10.1.0.0/16"]`` → networks; a bad entry raises ValueError naming it."""
    nets: list[Network] = []
    for spec in specs:
        try:
            nets.append(ipaddress.ip_network(spec.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"trusted_proxies: {spec!r} is not an address or network") from exc
    return nets


def is_trusted(host: str, nets: list[Network]) -> bool:
    if not nets:
        return False
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr in net for net in nets)


def parse_header(buf: bytes) -> tuple[str | None, int] | None:
    """Parse a PROXY header at the start of ``buf``.

    Returns ``None`` when more bytes are needed, else ``(client address, header length)``; the
    address is ``None`` for a header without one (v1 ``UNKNOWN``, v2 ``LOCAL``, a non-IP
    family) and the length is 0 when ``buf`` does not start with a header at all.

    Raises:
        ProxyHeaderError: a malformed header.
    """
    if buf.startswith(V2_SIGNATURE[: len(buf)]) and buf[:1] == b"\r":
        return _parse_v2(buf)
    if buf.startswith(V1_PREFIX[: len(buf)]) and buf[:1] == b"P":
        return _parse_v1(buf)
    return None, 0


def _parse_v1(buf: bytes) -> tuple[str | None, int] | None:
    end = buf.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(buf) >= V1_MAX:
            raise ProxyHeaderError("PROXY v1 line longer than 107 bytes")
        return None
    parts = buf[:end].decode("ascii", "replace").split(" ")
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return None, end + 2
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        raise ProxyHeaderError("malformed PROXY v1 line")
    try:
        src = ipaddress.ip_address(parts[2])
        ipaddress.ip_address(parts[3])
        ports = [int(p) for p in parts[4:6]]
    except ValueError as exc:
        raise ProxyHeaderError("malformed PROXY v1 address") from exc
    if src.version != (4 if parts[1] == "TCP4" else 6) or not all(0 <= p < 65536 for p in ports):
        raise ProxyHeaderError("malformed PROXY v1 address")
    return str(src), end + 2


def _parse_v2(buf: bytes) -> tuple[str | None, int] | None:
    if len(buf) < 16:
        return None
    if buf[:12] != V2_SIGNATURE:
        raise ProxyHeaderError("bad PROXY v2 signature")
    ver_cmd, family, length = struct.unpack_from("!BBH", buf, 12)
    if ver_cmd >> 4 != 2 or ver_cmd & 0xF not in (0, 1):
        raise ProxyHeaderError("unsupported PROXY v2 version or command")
    total = 16 + length
    if len(buf) < total:
        return None
    if ver_cmd & 0xF == 0:  # LOCAL: the balancer's own connection (a health check)
        return None, total
    if family >> 4 == 1 and length >= 12:
        return str(ipaddress.IPv4Address(buf[16:20])), total
    if family >> 4 == 2 and length >= 36:
        return str(ipaddress.IPv6Address(buf[16:32])), total
    if family >> 4 in (1, 2):
        raise ProxyHeaderError("PROXY v2 address block too short")
    return None, total
