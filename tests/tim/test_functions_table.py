"""The module-level TIM functions come from one table, the ``TIMSDK`` methods
(scripts/gen_tim_functions.py writes tim/functions.py): the file is never stale, a new method is
all a new function takes, and app code type-checked with ``mypy --strict`` sees each function's
real signature."""

from __future__ import annotations

import importlib.util
import inspect
import textwrap
from pathlib import Path
from types import ModuleType

import mypy.api
import pytest

import opentim.tim
from opentim.tim import TIMSDK, functions

SCRIPT = Path(__file__).resolve().parents[2] / "scripts/gen_tim_functions.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_tim_functions", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_functions_py_is_what_the_generator_writes() -> None:
    gen = generator()
    assert Path(functions.__file__).read_text() == gen.render(), (
        "tim/functions.py is stale: run python scripts/gen_tim_functions.py"
    )
    assert gen.main(["gen_tim_functions.py", "--check"]) == 0


def test_a_new_method_is_all_a_new_function_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    def TIMFriendshipGetFriendProfileList(self: TIMSDK, cb: object, user_data: object) -> int:
        return 0

    monkeypatch.setattr(
        TIMSDK,
        "TIMFriendshipGetFriendProfileList",
        TIMFriendshipGetFriendProfileList,
        raising=False,
    )
    gen = generator()
    text = gen.render()
    assert (
        "TIMFriendshipGetFriendProfileList = _default.TIMFriendshipGetFriendProfileList\n" in text
    )
    assert '    "TIMFriendshipGetFriendProfileList",\n' in text
    assert gen.main(["gen_tim_functions.py", "--check"]) == 1, "the file is now stale"


def test_each_function_is_the_default_instance_method_with_its_signature_and_doc() -> None:
    for name in functions.__all__:
        fn = getattr(opentim.tim, name)
        method = getattr(TIMSDK, name)
        assert fn.__self__ is functions._default, name
        assert fn.__doc__, name
        assert fn.__doc__ == method.__doc__, name
        params = list(inspect.signature(method).parameters.values())[1:]
        assert list(inspect.signature(fn).parameters.values()) == params, name
    assert opentim.tim.__all__ == ["TIMSDK", *functions.__all__]


def test_mypy_strict_app_code_sees_the_real_signatures(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            """\
            import opentim.tim
            from opentim.tim import TIMConvCreate, TIMMsgSendMessage

            reveal_type(opentim.tim.TIMConvCreate)
            TIMConvCreate("peer", 1, None)
            TIMConvCreate("peer", "1", None)
            TIMMsgSendMessage("peer", 1, "{}", None, None, user_data=7)
            opentim.tim.TIMConvGetConvList(cb=None, user_data=None, extra=1)
            """
        )
    )
    out, err, status = mypy.api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(app)]
    )
    assert status == 1, out + err
    lines = out.splitlines()
    assert any(
        ":4: note: Revealed type is" in line
        and "def (conv_id: str, conv_type: int, cb:" in line
        and ") -> int" in line
        for line in lines
    ), out
    errors = sorted(line.split(":")[1] for line in lines if ": error:" in line)
    assert errors == ["6", "8"], out
