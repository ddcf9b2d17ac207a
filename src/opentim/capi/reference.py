"""The facts of Tencent's 8.6 C headers (``tim-c-all.json``, kept in this package as data):
every function with its C signature, callback typedef, JSON key constant and enum, by header.

The C library (``build.py``), its headers (``headers.py``) and its Python side (``bridge.py``)
are all generated from these facts, so they cannot disagree with each other.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

FACTS_FILE = "tim-c-all.json"

_PARAM = re.compile(r"^(?P<type>.+?)\s*(?P<name>[A-Za-z_]\w*)$")


@dataclass(frozen=True)
class Param:
    """One C parameter: its type (spelled ``const char*``, ``enum TIMConvType`` …) and name."""

    ctype: str
    name: str

    @property
    def decl(self) -> str:
        return f"{self.ctype} {self.name}"


@dataclass(frozen=True)
class Function:
    """An exported function of the C API."""

    name: str
    returns: str
    params: tuple[Param, ...]
    header: str

    @property
    def decl(self) -> str:
        args = ", ".join(p.decl for p in self.params) or "void"
        return f"{self.returns} {self.name}({args})"


@dataclass(frozen=True)
class Callback:
    """A callback typedef (every one returns ``void``)."""

    name: str
    params: tuple[Param, ...]
    header: str

    @property
    def decl(self) -> str:
        args = ", ".join(p.decl for p in self.params) or "void"
        return f"typedef void (*{self.name})({args})"


@dataclass(frozen=True)
class JsonKey:
    """A JSON key constant: its C name, the key string, its type tag and access word."""

    name: str
    key: str
    type: str
    access: str


@dataclass(frozen=True)
class Enum:
    """An enum; each member's value as the header spells it (a number, or ``0x1L << 2``)."""

    name: str
    values: tuple[tuple[str, str], ...]
    header: str


@dataclass(frozen=True)
class Header:
    name: str
    functions: tuple[Function, ...]
    callbacks: tuple[Callback, ...]
    keys: tuple[JsonKey, ...]
    enums: tuple[Enum, ...]


def parse_param(text: str) -> Param:
    """``"const char *json_x"`` → ``Param("const char*", "json_x")``."""
    normal = re.sub(r"\s*\*\s*", "* ", text.strip())
    match = _PARAM.match(normal)
    if match is None:
        raise ValueError(f"cannot read the C parameter {text!r}")
    return Param(re.sub(r"\s+", " ", match["type"]).strip(), match["name"])


def _header(name: str, data: dict[str, Any]) -> Header:
    functions = tuple(
        Function(fn, spec["returns"], tuple(parse_param(p) for p in spec["params"]), name)
        for fn, spec in data["functions"].items()
    )
    callbacks = tuple(
        Callback(cb, tuple(parse_param(p) for p in params), name)
        for cb, params in data["callback_typedefs"].items()
    )
    keys = tuple(
        JsonKey(key, spec["key"], spec.get("type", ""), spec.get("access", ""))
        for key, spec in data["json_keys"].items()
    )
    enums = tuple(
        Enum(enum, tuple((m, str(v)) for m, v in members.items()), name)
        for enum, members in data["enums"].items()
    )
    return Header(name, functions, callbacks, keys, enums)


@functools.cache
def headers() -> tuple[Header, ...]:
    """The headers of the reference, in its order."""
    text = resources.files(__package__).joinpath(FACTS_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    return tuple(_header(name, spec) for name, spec in data["headers"].items())


def functions() -> tuple[Function, ...]:
    return tuple(f for h in headers() for f in h.functions)


def callbacks() -> dict[str, Callback]:
    return {c.name: c for h in headers() for c in h.callbacks}


def enums() -> dict[str, Enum]:
    return {e.name: e for h in headers() for e in h.enums}


_SHIFT = re.compile(r"^(0x[0-9a-fA-F]+|\d+)[uUlL]*\s*<<\s*(\d+)$")


def c_int(text: str) -> int:
    """The value of an enum member's C constant: ``-4``, ``0x10``, ``0x1L << 2``."""
    match = _SHIFT.match(text.strip())
    if match is not None:
        return int(match[1], 0) << int(match[2])
    return int(text.strip().rstrip("uUlL"), 0)


def enum_value(enum: str, member: str) -> int:
    """The value of one enum member, e.g. ``enum_value("TIMResult", "TIM_ERR_PARAM")``."""
    return c_int(dict(enums()[enum].values)[member])
