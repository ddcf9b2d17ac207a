"""C programs written against the TIM C API, linked with ``-lImSDK``, against a real server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import opentim.tim
from opentim.capi import reference as ref
from opentim.protocol import ErrorCode

from .support import (
    EXIT_LAG,
    Library,
    Served,
    compile_c,
    need_tool,
    postgres_schema,
    run,
    run_seed_pair,
    serve,
    timings,
)

pytestmark = pytest.mark.e2e


def test_the_library_exports_every_function_of_the_reference(libimsdk: Library) -> None:
    out = subprocess.run(
        ["nm", "-D", "--defined-only", str(libimsdk.directory / "libImSDK.so")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    exported = {line.split()[-1] for line in out.splitlines() if " T " in line}
    wanted = {f.name for f in ref.functions()}
    assert len(wanted) == 244
    assert wanted <= exported


def test_the_headers_compile_as_c_and_cpp_with_every_declaration(
    libimsdk: Library, tmp_path: Path
) -> None:
    """Every function of the reference is declared with its C signature (a program assigns
    each to a pointer of the reference's type), every key and enum member with its value: it
    compiles as C and C++, and runs linked with -lImSDK."""
    lines = [
        '#include "TIMCloud.h"',
        "#include <string.h>",
        "#ifdef __cplusplus",
        "#define SA static_assert",
        "#else",
        "#define SA _Static_assert",
        "#endif",
        "int main(void) {",
    ]
    for f in ref.functions():
        args = ", ".join(p.ctype for p in f.params) or "void"
        lines.append(f"    {{ {f.returns} (*p)({args}) = {f.name}; (void)p; }}")
    lines += [
        f"    if (strcmp({key.name}, {json.dumps(key.key)}) != 0) return 1;"
        for h in ref.headers()
        for key in h.keys
    ]
    lines += [
        f'    SA((long long){member} == {ref.c_int(value)}LL, "{member}");'
        for enum in ref.enums().values()
        for member, value in enum.values
    ]
    lines += ["    return 0;", "}"]
    need_tool("the C++ header check", shutil.which("c++") is not None, "c++ (apt-get install g++)")
    for suffix, compiler in ((".c", ["cc", "-std=c11"]), (".cpp", ["c++", "-std=c++11"])):
        source = tmp_path / f"decls{suffix}"
        source.write_text("\n".join(lines))
        result = subprocess.run(
            [
                *compiler,
                "-Wall",
                "-Werror",
                "-I",
                str(libimsdk.include),
                str(source),
                "-o",
                str(tmp_path / f"decls-{suffix[1:]}"),
                "-L",
                str(libimsdk.directory),
                f"-Wl,-rpath,{libimsdk.directory}",
                "-lImSDK",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        ran = run([str(tmp_path / f"decls-{suffix[1:]}")])
        assert ran.returncode == 0, ran.stderr


def test_seed_scenarios_from_c_with_the_server_found_without_code(
    libimsdk: Library, served: Served, tmp_path: Path
) -> None:
    """Two C processes: bob finds the server through OPENTIM_SERVER_URL, alice through
    opentim.json in her config directory (their code names no server). Alice sends, lists,
    drafts, pins and counts unread; bob receives the message with TIMAddRecvNewMsgCallback and
    calls TIMConvGetConvList from inside that callback. Both exit 0 promptly after TIMUninit."""
    exe = compile_c(libimsdk, "seed.c")
    alice, got = run_seed_pair([str(exe)], served, tmp_path)
    assert alice.returncode == 0, alice.stderr
    assert "alice done" in alice.stdout
    assert got.returncode == 0, got.stderr
    assert "hello from C" in got.stdout
    assert alice.exit_lag < EXIT_LAG
    assert got.exit_lag < EXIT_LAG
    timings["seed.c alice run"] = alice.seconds


@pytest.mark.postgres
def test_seed_scenarios_from_c_on_postgresql(libimsdk: Library, tmp_path: Path) -> None:
    exe = compile_c(libimsdk, "seed.c")
    with postgres_schema() as store, serve(tmp_path / "serve", "--store", store) as served:
        alice, bob = run_seed_pair([str(exe)], served, tmp_path)
    assert alice.returncode == 0, alice.stderr
    assert "alice done" in alice.stdout
    assert bob.returncode == 0, bob.stderr
    assert "hello from C" in bob.stdout


def test_friendship_basics_from_c(libimsdk: Library, served: Served, tmp_path: Path) -> None:
    """From C: one user applies to be a friend (the other's permission needs a confirmation),
    the other agrees and adds, lists friends, sets a remark, checks the relation, blocks the
    applicant (the blacklist callback comes on the SDK thread) and lists the blacklist; the
    blocked user's message is then refused with 20007."""
    exe = compile_c(libimsdk, "friends.c")
    env = {"OPENTIM_SERVER_URL": served.url}
    served.register("cora")
    steps = (("apply", "cody", "cora"), ("main", "cora", "cody"), ("send", "cody", "cora"))
    outputs = []
    for mode, user, peer in steps:
        config = tmp_path / user
        config.mkdir(exist_ok=True)
        ran = run([str(exe), str(config), mode, user, served.sig(user), peer], env)
        assert ran.returncode == 0, ran.stderr
        outputs.append(ran.stdout)
    assert "applied" in outputs[0]
    assert "befriended and blocked cody" in outputs[1]
    assert f"refused {int(ErrorCode.ERR_SVR_MSG_IN_PEER_BLACKLIST)}" in outputs[2]


def test_many_threads_call_at_once_and_callbacks_come_on_the_sdk_thread(
    libimsdk: Library, served: Served, tmp_path: Path
) -> None:
    exe = compile_c(libimsdk, "threads.c")
    served.register("dave")
    ran = run([str(exe), str(tmp_path), served.sig("carol")], {"OPENTIM_SERVER_URL": served.url})
    assert ran.returncode == 0, ran.stderr
    assert "80 answers" in ran.stdout
    assert ran.exit_lag < EXIT_LAG
    timings["threads.c run"] = ran.seconds


def _not_yet_callback_only_function() -> str:
    """A function taking only (cb, user_data) that is not real yet."""
    from opentim.tim.pending import PENDING

    return next(
        f.name
        for f in ref.functions()
        if [p.ctype for p in f.params] == ["TIMCommCallback", "const void*"] and f.name in PENDING
    )


def test_a_function_opentim_lacks_answers_not_yet_through_its_callback(
    libimsdk: Library, served: Served, tmp_path: Path
) -> None:
    name = _not_yet_callback_only_function()
    exe = compile_c(libimsdk, "notyet.c")
    ran = run(
        [str(exe), str(tmp_path), name, "nora", served.sig("nora")],
        {"OPENTIM_SERVER_URL": served.url},
    )
    assert ran.returncode == 0, ran.stderr
    assert f"{name} answered {int(ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT)}" in ran.stdout


def test_the_start_up_calls_of_tencents_wrappers_run_from_c(
    libimsdk: Library, served: Served, tmp_path: Path
) -> None:
    """callExperimentalAPI before TIMInit, TIMGetSDKVersion, TIMSetConfig and the log callback,
    TIMGetServerTime, TIMMsgSendNewMsg and TIMMsgSendNewMsgEx."""
    exe = compile_c(libimsdk, "startup.c")
    served.register("sam-peer")
    ran = run(
        [str(exe), str(tmp_path), "sam", served.sig("sam"), "sam-peer"],
        {"OPENTIM_SERVER_URL": served.url},
    )
    assert ran.returncode == 0, ran.stderr
    assert f"version {opentim.tim.TIMGetSDKVersion()}" in ran.stdout
    assert "startup ok" in ran.stdout


def test_a_group_screen_from_c_changes_the_info_and_lists_the_members(
    libimsdk: Library, served: Served, tmp_path: Path
) -> None:
    """TIMGroupModifyGroupInfo (and its tip), TIMGroupGetGroupInfoList,
    TIMGroupModifyMemberInfo and TIMGroupGetMemberInfoList by role and in full."""
    exe = compile_c(libimsdk, "groups.c")
    served.register("gina-member")
    ran = run(
        [str(exe), str(tmp_path), "gina", served.sig("gina"), "gina-member"],
        {"OPENTIM_SERVER_URL": served.url},
    )
    assert ran.returncode == 0, ran.stderr
    assert "groups ok" in ran.stdout
    admins = json.loads(ran.stdout.split("admins ", 1)[1].splitlines()[0])
    roles = {
        m["group_member_info_identifier"]: m["group_member_info_member_role"]
        for m in admins["group_get_member_info_list_result_info_array"]
    }
    assert roles == {"gina-member": 300}


def test_without_a_usable_python_every_call_refuses_and_none_succeeds(
    libimsdk: Library, tmp_path: Path
) -> None:
    """The library's Python cannot import opentim (an empty environment): calls return
    TIM_ERR_SDKUNINIT, never TIM_SUCC, and stderr says why."""
    exe = compile_c(libimsdk, "unusable.c")
    empty = tmp_path / "empty-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(empty)], check=True)
    ran = run([str(exe)], {"OPENTIM_PYTHON": str(empty / "bin" / "python")})
    assert ran.returncode == 0, ran.stderr
    assert "refused" in ran.stdout
    assert "cannot import" in ran.stderr


def test_a_c_program_modifies_and_reads_its_profile(
    libimsdk: Library, served: Served, tmp_path: Path
) -> None:
    """TIMProfileModifySelfUserProfile with a custom field, TIMProfileGetUserProfileList, the
    self-info callback on the SDK thread, 40009 for a bad custom key (issue 11)."""
    exe = compile_c(libimsdk, "profile.c")
    ran = run(
        [str(exe), str(tmp_path), "cara", served.sig("cara")],
        {"OPENTIM_SERVER_URL": served.url},
    )
    assert ran.returncode == 0, ran.stderr
    assert "profile ok" in ran.stdout
    assert f"bad key answered {int(ErrorCode.ERR_SVR_PROFILE_TAG_NOT_FOUND)}" in ran.stdout
    [line] = [x for x in ran.stdout.splitlines() if x.startswith("profile [")]
    [profile] = json.loads(line.removeprefix("profile "))
    assert profile["user_profile_gender"] == 2
    assert profile["user_profile_custom_string_array"] == [
        {
            "user_profile_custom_string_info_key": "Tag_Profile_Custom_Lang",
            "user_profile_custom_string_info_value": "c99",
        }
    ]
