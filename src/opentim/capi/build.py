"""``opentim capi build``: ``libImSDK.so`` and its C headers, through cffi's embedding API.

The library exports every function of the reference with its C signature. The first call
starts the Python it was built with (``libpython``, found through the library's rpath), adds
the building environment's site-packages (where opentim is installed) to ``sys.path``, and
attaches ``bridge.install``'s Python bodies to the exported functions.
"""

from __future__ import annotations

import shutil
import site
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import reference as ref
from .headers import UMBRELLA, write_headers

LIBRARY = "libImSDK.so"
MODULE = "_opentim_imsdk"
"""The name of the embedded cffi module (internal)."""


@dataclass(frozen=True)
class Built:
    library: Path
    include: Path


def cdef_types() -> str:
    """The types the exported functions use, for cffi: the enums used in signatures and every
    callback typedef."""
    used = {
        p.ctype.removeprefix("enum ")
        for f in ref.functions()
        for p in f.params
        if p.ctype.startswith("enum ")
    }
    used |= {
        p.ctype.removeprefix("enum ")
        for c in ref.callbacks().values()
        for p in c.params
        if p.ctype.startswith("enum ")
    }
    used |= {f.returns.removeprefix("enum ") for f in ref.functions()}
    lines = []
    for enum in ref.enums().values():
        if enum.name in used:
            members = ", ".join(f"{m} = {ref.c_int(v)}" for m, v in enum.values)
            lines.append(f"enum {enum.name} {{ {members} }};")
    lines += [f"{c.decl};" for c in ref.callbacks().values()]
    return "\n".join(lines)


def _api() -> str:
    return "\n".join(f"{f.decl};" for f in ref.functions())


def site_dirs() -> list[str]:
    """The site-packages of this environment (a venv's included), in ``sys.path`` order."""
    dirs = [*site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dirs if Path(d).is_dir()]


def init_code() -> str:
    """What the library runs once, on its first call, in the embedded interpreter."""
    return "\n".join(
        [
            "import site",
            "import sys",
            f"for _d in {site_dirs()!r}:",
            "    if _d not in sys.path:",
            "        site.addsitedir(_d)",
            "from opentim.capi.bridge import install",
            f"from {MODULE} import ffi",
            "install(ffi)",
        ]
    )


def python_libdir() -> str:
    """Where this Python's ``libpython`` lives."""
    return str(sysconfig.get_config_var("LIBDIR") or "")


def build(out: Path, *, verbose: bool = False) -> Built:
    """Build ``out/libImSDK.so`` and write the headers into ``out/include``.

    Raises:
        RuntimeError: this Python has no shared ``libpython`` to embed.
        cffi.VerificationError: the C compiler failed.
    """
    import cffi

    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        raise RuntimeError(
            f"{sys.executable} was built without a shared libpython (--enable-shared): "
            "it cannot be embedded in a C library"
        )
    out = out.resolve()
    include = out / "include"
    write_headers(include)
    libdir = python_libdir()
    ffibuilder = cffi.FFI()
    ffibuilder.cdef(cdef_types())
    ffibuilder.embedding_api(_api())
    ffibuilder.set_source(
        MODULE,
        f'#include "{UMBRELLA}"',
        include_dirs=[str(include)],
        library_dirs=[libdir],
        extra_link_args=[f"-Wl,-rpath,{libdir}", f"-Wl,-soname,{LIBRARY}"],
        extra_compile_args=["-Wno-pedantic"],
    )
    ffibuilder.embedding_init_code(init_code())
    with tempfile.TemporaryDirectory(prefix="opentim-capi-") as tmp:
        built = ffibuilder.compile(tmpdir=tmp, target=LIBRARY, verbose=verbose)
        library = out / LIBRARY
        shutil.copyfile(built, library.with_suffix(".so.tmp"))
        library.with_suffix(".so.tmp").replace(library)
    return Built(library, include)
