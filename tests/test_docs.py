"""Every code the source can return is documented in docs/errors.md, with its reference value."""

from __future__ import annotations

import re
from pathlib import Path

from opentim.protocol.codes import ErrorCode, TIMResult

ROOT = Path(__file__).resolve().parent.parent


def documented() -> dict[str, int]:
    text = (ROOT / "docs/errors.md").read_text()
    return {
        name: int(value) for value, name in re.findall(r"^\| (-?\d+) \| `(\w+)` \|", text, re.M)
    }


def used_in_source() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src/opentim").rglob("*.py"):
        if path.name == "codes.py":
            continue
        names.update(re.findall(r"\b(?:ErrorCode|TIMResult)\.(\w+)", path.read_text()))
    return names


def test_every_code_used_in_the_source_is_documented() -> None:
    missing = used_in_source() - set(documented())
    assert not missing, f"add these to docs/errors.md: {sorted(missing)}"


def test_documented_codes_have_the_reference_values() -> None:
    for name, value in documented().items():
        enum = TIMResult if name.startswith("TIM_") else ErrorCode
        assert enum[name] == value, name
