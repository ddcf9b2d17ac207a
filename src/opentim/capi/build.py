"""``opentim capi build``: ``libImSDK.so`` and its C headers, through cffi's embedding API.

The library exports every function of the reference with its C signature, written in C: each
calls its Python twin (``PY_PREFIX``, an ``extern "Python+C"`` function of cffi), or refuses when
the library's Python cannot run opentim. When the library is loaded it starts the Python it was
built with (``libpython``, found through the library's rpath) as that environment's ``python``
would start (``OPENTIM_PYTHON`` names another of the same version), so opentim and its
dependencies import from where they are installed; the first call attaches
``bridge.install``'s Python bodies to the twins.
"""

from __future__ import annotations

import shutil
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import reference as ref
from .headers import UMBRELLA, write_headers
from .reference import Function

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
    params = [p for f in ref.functions() for p in f.params]
    params += [p for c in ref.callbacks().values() for p in c.params]
    used = {p.ctype.removeprefix("enum ") for p in params if p.ctype.startswith("enum ")}
    used |= {f.returns.removeprefix("enum ") for f in ref.functions()}
    lines = []
    for enum in ref.enums().values():
        if enum.name in used:
            members = ", ".join(f"{m} = {ref.c_int(v)}" for m, v in enum.values)
            lines.append(f"enum {enum.name} {{ {members} }};")
    lines += [f"{c.decl};" for c in ref.callbacks().values()]
    return "\n".join(lines)


PY_PREFIX = "opentim_py_"
"""The Python-backed twin of each exported function (``extern "Python+C"``, hidden): the
exported function, written in C, calls it once the library's Python is usable."""


def _python_functions(attribute: str = "") -> str:
    return "\n".join(
        f"{attribute}{f.returns} {PY_PREFIX}{f.name}"
        f"({', '.join(p.decl for p in f.params) or 'void'});"
        for f in ref.functions()
    )


def _python_twins() -> str:
    """The twins for cffi: ``extern "Python+C"`` functions, given Python bodies by
    ``bridge.install``."""
    return 'extern "Python+C" {\n' + _python_functions() + "\n}"


def _unusable_result(function: Function) -> str:
    """What an exported function returns when the library's Python cannot run opentim."""
    if function.returns == "int":
        return " TIM_ERR_SDKUNINIT"
    if function.returns == "void":
        return ""
    if function.returns == "const char*":
        return ' ""'
    if function.returns == "enum TIMLoginStatus":
        return " kTIMLoginStatus_UnLogined"
    return " 0"


def exported_functions() -> str:
    """The exported functions, in C: each calls its Python twin, or, when the library's Python
    could not import opentim, returns ``_unusable_result`` (never ``TIM_SUCC``)."""
    out = []
    for f in ref.functions():
        params = ", ".join(p.decl for p in f.params) or "void"
        args = ", ".join(p.name for p in f.params)
        call = f"{PY_PREFIX}{f.name}({args})"
        body = f"{call};" if f.returns == "void" else f"return {call};"
        out += [
            f"{f.returns} {f.name}({params})",
            "{",
            f"    if (!opentim_usable) return{_unusable_result(f)};",
            f"    {body}",
            "}",
        ]
    return "\n".join(out)


INIT_CODE = f"""
from opentim.capi.bridge import install
from {MODULE} import ffi
install(ffi)
"""
"""What the library runs once, on its first call, in the embedded interpreter."""

START_PYTHON = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/* Whether the library's Python imported opentim: if not, every function refuses. */
static int opentim_usable;

/* At load time: make libpython's symbols global (a host that dlopen()s this library with
   RTLD_LOCAL, as Node, Mono or Python's ctypes do, would otherwise hide them from the extension
   modules Python imports), then start Python as the environment's own `python` would start, so
   its site-packages are on sys.path, and import opentim. cffi finds Python running and uses it. */
__attribute__((constructor)) static void opentim_start_python(void)
{
    PyConfig config;
    PyStatus status;
    PyObject *module;
    const char *python = getenv("OPENTIM_PYTHON");
    const char *needed[] = {"_cffi_backend", "opentim.capi.bridge", NULL};

    dlopen(OPENTIM_LIBPYTHON, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    if (Py_IsInitialized()) {  /* a Python host: it has what it has */
        opentim_usable = 1;
        return;
    }
    if (python == NULL || python[0] == '\0')
        python = OPENTIM_PYTHON_EXECUTABLE;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    status = PyConfig_SetBytesString(&config, &config.executable, python);
    if (!PyStatus_Exception(status))
        status = PyConfig_SetBytesString(&config, &config.program_name, python);
    if (!PyStatus_Exception(status))
        status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        fprintf(stderr, "libImSDK: cannot start Python %s: %s\n", python,
                status.err_msg ? status.err_msg : "unknown error");
        return;
    }
    opentim_usable = 1;
    for (int i = 0; needed[i] != NULL; i++) {
        module = PyImport_ImportModule(needed[i]);
        if (module == NULL) {
            fprintf(stderr, "libImSDK: the Python %s cannot import %s; every call fails:\n",
                    python, needed[i]);
            PyErr_Print();
            opentim_usable = 0;
            break;
        }
        Py_DECREF(module);
    }
    PyEval_SaveThread();
}
"""


def python_libdir() -> str:
    """Where this Python's ``libpython`` lives."""
    return str(sysconfig.get_config_var("LIBDIR") or "")


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def preamble(include: str) -> str:
    """The C code compiled into the library besides cffi's own."""
    soname = str(sysconfig.get_config_var("INSTSONAME") or sysconfig.get_config_var("LDLIBRARY"))
    return "\n".join(
        [
            f'#include "{include}"',
            f"#define OPENTIM_LIBPYTHON {_c_string(soname)}",
            f"#define OPENTIM_PYTHON_EXECUTABLE {_c_string(sys.executable)}",
            START_PYTHON,
            _python_functions('__attribute__((visibility("hidden"))) '),
            exported_functions(),
        ]
    )


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
    ffibuilder.cdef(cdef_types() + "\n" + _python_twins())
    ffibuilder.set_source(
        MODULE,
        preamble(UMBRELLA),
        include_dirs=[str(include)],
        library_dirs=[libdir],
        libraries=["dl"],
        extra_link_args=[f"-Wl,-rpath,{libdir}", f"-Wl,-soname,{LIBRARY}"],
        extra_compile_args=["-Wno-pedantic"],
    )
    ffibuilder.embedding_init_code(INIT_CODE)
    with tempfile.TemporaryDirectory(prefix="opentim-capi-") as tmp:
        built = ffibuilder.compile(tmpdir=tmp, target=LIBRARY, verbose=verbose)
        library = out / LIBRARY
        shutil.copyfile(built, library.with_suffix(".so.tmp"))
        library.with_suffix(".so.tmp").replace(library)
    return Built(library, include)
