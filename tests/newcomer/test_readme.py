"""The README's commands work as written. Every `sh` block says whether the tests run it; the ones marked
`<!-- tested: runs against the demo hub -->` (and the `python` blocks so marked) are run, in order, in a
directory set up the way `make run` sets up the checkout (`init --demo` with the sample reports) against a real
`taxii-hub serve` on 127.0.0.1. The only change made to them is the port: the README's 8443 becomes the free
port the test serves on. curl runs with --fail-with-body, so an HTTP error fails the block.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.newcomer import Served, newcomer_env, run

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
RUN = "<!-- tested: runs against the demo hub -->"
NOT_RUN = re.compile(r"<!-- not run by the tests: .+ -->")
FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass(frozen=True)
class Block:
    language: str
    line: int
    marker: str
    text: str


def blocks() -> list[Block]:
    found = []
    lines = README.read_text(encoding="utf-8").splitlines()
    n = 0
    while n < len(lines):
        opening = FENCE.match(lines[n])
        if opening is None:
            n += 1
            continue
        end = next(i for i in range(n + 1, len(lines)) if lines[i].startswith("```"))
        before = next((lines[i].strip() for i in range(n - 1, -1, -1) if lines[i].strip()), "")
        found.append(Block(opening.group(1), n + 1, before, "\n".join(lines[n + 1:end]) + "\n"))
        n = end + 1
    return found


def marked_to_run(language: str) -> list[Block]:
    return [b for b in blocks() if b.language == language and b.marker == RUN]


def test_every_shell_block_says_whether_the_tests_run_it() -> None:
    shell = [b for b in blocks() if b.language == "sh"]
    unmarked = [b.line for b in shell if b.marker != RUN and not NOT_RUN.fullmatch(b.marker)]
    assert shell and unmarked == [], f"README.md lines {unmarked}: mark each sh block {RUN} or {NOT_RUN.pattern}"
    assert len(marked_to_run("sh")) >= 4 and len(marked_to_run("python")) >= 2


def test_curl_commands_never_glob_brackets() -> None:
    """curl reads `[…]` in a URL as a glob range ("bad range in URL") unless -g is given."""
    for block in blocks():
        for command in re.split(r"(?<!\\)\n", block.text):
            if re.search(r"(^|\s)curl\s", command) and "[" in command.split("#")[0]:
                assert re.search(r"curl\s+(-g|--globoff)\b", command), f"README.md line {block.line}: {command}"


@pytest.mark.slow
def test_the_readme_blocks_run_against_a_demo_hub(tmp_path: Path,
                                                  serve_hub: Callable[[Path, Path], Served]) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "tests").symlink_to(REPO / "tests")
    cli = tmp_path / ".venv" / "bin" / "taxii-hub"
    init = run([str(cli), "init", "--demo", "--samples", "tests/data/samples/records"], cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    served = serve_hub(cli, tmp_path)

    def as_served(text: str) -> str:
        return text.replace("localhost:8443", f"localhost:{served.port}")

    python = "\n".join(as_served(b.text) for b in marked_to_run("python"))
    ran = run([sys.executable, "-c", python], cwd=tmp_path)
    assert ran.returncode == 0, f"{ran.stderr}\n--- the README's python blocks:\n{python}"
    assert "Member feed" in ran.stdout and "complete 1" in ran.stdout, ran.stdout

    for block in marked_to_run("sh"):
        script = 'curl() { command curl --fail-with-body --silent --show-error "$@"; }\n' + as_served(block.text)
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=newcomer_env(),
                                capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, f"README.md line {block.line}:\n{block.text}\n{result.stdout}\n{result.stderr}"
    assert served.process.poll() is None, served.output()
