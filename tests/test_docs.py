"""The docs hold: every code the source can return is in docs/errors.md with its reference value;
README and docs link only to files of the repository; every snippet of docs/getting-started.md
runs against a real server and prints what the page says."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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


# --- links --------------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of the headings of a markdown file."""
    out = set()
    for heading in re.findall(r"^#+ (.+)$", path.read_text(), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        out.add(slug)
    return out


def test_readme_and_docs_link_only_to_files_in_the_repository() -> None:
    bad: list[str] = []
    for doc in markdown_files():
        for target in LINK.findall(doc.read_text()):
            where = f"{doc.relative_to(ROOT)}: {target}"
            if re.match(r"[a-z]+:", target):
                bad.append(f"{where} (outside the repository)")
                continue
            file_part, _, anchor = target.partition("#")
            path = (doc.parent / file_part).resolve() if file_part else doc
            if not path.is_relative_to(ROOT) or not path.exists():
                bad.append(f"{where} (no such file in the repository)")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                bad.append(f"{where} (no such heading)")
    assert not bad, bad


def test_the_readme_links_to_getting_started_first() -> None:
    links = LINK.findall((ROOT / "README.md").read_text())
    assert links[0] == "docs/getting-started.md", links[:3]


QUICK_START = [
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[server]' && .venv/bin/opentim demo",
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && "
    ".venv/bin/python -m coverage erase && "
    "PYTHONASYNCIODEBUG=1 .venv/bin/python -m coverage run -m pytest",
]


def test_the_readme_quick_start_is_the_two_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme[readme.index("## Quick start") : readme.index("## Documentation")]
    assert [code.strip() for lang, code in BLOCK.findall(quick_start)] == QUICK_START


# --- getting-started: every snippet runs --------------------------------------------------------

BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
KEEPS_RUNNING = "keeps running"
"""Said in the prose before a snippet that stays up (the bot) while the next ones run."""


@dataclass
class Snippet:
    lang: str
    code: str
    output: str | None
    """The ``text`` block that follows it, if any: what it prints."""
    background: bool


def snippets(path: Path) -> list[Snippet]:
    text = path.read_text()
    out: list[Snippet] = []
    last_end = 0
    for match in BLOCK.finditer(text):
        lang, code = match.group(1), match.group(2)
        prose = text[last_end : match.start()]
        last_end = match.end()
        if lang == "text":
            if out and out[-1].output is None:
                out[-1].output = code
            continue
        out.append(Snippet(lang, code, None, KEEPS_RUNNING in prose.strip().split("\n\n")[-1]))
    return out


def shell_commands(code: str) -> tuple[dict[str, str], list[list[str]]]:
    """The ``export NAME=VALUE`` settings and the commands of a ``sh`` snippet."""
    env: dict[str, str] = {}
    commands: list[list[str]] = []
    for line in code.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "export":
            name, _, value = words[1].partition("=")
            env[name] = value
        elif words:
            commands.append(words)
    return env, commands


def read_lines(proc: subprocess.Popen[str], count: int) -> list[str]:
    assert proc.stdout is not None
    lines = []
    for _ in range(count):
        line = proc.stdout.readline()
        assert line, f"exited early after {lines}"
        lines.append(line.rstrip("\n"))
    return lines


@pytest.mark.e2e
def test_every_getting_started_snippet_runs_and_prints_what_the_page_says(
    tmp_path: Path,
) -> None:
    """The page's commands and programs, in order, against ``opentim serve`` as the page starts
    it (with ``OPENTIM_PORT=0``, and ``OPENTIM_URL`` set to the URL it prints)."""
    page = snippets(ROOT / "docs/getting-started.md")
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENTIM_")}
    env |= {
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "OPENTIM_PORT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    running: list[tuple[subprocess.Popen[str], Snippet, list[str]]] = []
    server: subprocess.Popen[str] | None = None
    ran = 0
    try:
        for snippet in page:
            if snippet.lang == "sh":
                exports, commands = shell_commands(snippet.code)
                env |= exports
                for words in commands:
                    if words[:2] == ["opentim", "serve"]:
                        server = subprocess.Popen(
                            words, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
                        )
                        (line,) = read_lines(server, 1)
                        url = line.removeprefix("opentim listening on ")
                        assert snippet.output is not None
                        assert line.replace(url, "ws://127.0.0.1:9000/ws") == snippet.output.strip()
                        env["OPENTIM_URL"] = url
                    elif words[0] == "opentim":
                        done = subprocess.run(
                            words, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
                        )
                        assert done.returncode == 0, done.stderr
                    else:
                        assert "pip install" in " ".join(words), f"not run: {words}"
                continue
            assert snippet.lang == "python", snippet.lang
            assert server is not None, "the page runs its programs after starting the server"
            ran += 1
            script = tmp_path / f"snippet{ran}.py"
            script.write_text(snippet.code)
            if snippet.background:
                proc = subprocess.Popen(
                    [sys.executable, script],
                    cwd=tmp_path,
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                expected = (snippet.output or "").splitlines()
                assert expected, "a snippet that keeps running shows what it prints"
                running.append((proc, snippet, read_lines(proc, 1)))
                continue
            done = subprocess.run(
                [sys.executable, script],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, f"snippet {ran}:\n{done.stderr}"
            if snippet.output is not None:
                assert done.stdout.splitlines() == snippet.output.splitlines(), f"snippet {ran}"
        for proc, snippet, first in running:
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0
            assert first + out.splitlines() == (snippet.output or "").splitlines()
        assert ran >= 5
    finally:
        for proc, _, _ in running:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=30)
