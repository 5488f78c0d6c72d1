"""Print pip constraints that pin each dependency setup.cfg declares with a lower bound to that bound
(`flask>=3.1,<4` -> `flask==3.1`): the runtime dependencies and the `mongo` extra. `make test-min` installs
with them. With --unit-test-tools: the `test` extra's requirements that the unit tests need (not the API
fuzzer or the browser driver, whose own floors would lift the runtime's).
Usage: python .ci/minimum_versions.py [--unit-test-tools] setup.cfg
"""

from __future__ import annotations

import configparser
import re
import sys

REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)$")


NOT_FOR_UNIT_TESTS = ("schemathesis", "playwright")


def _requirements(setup_cfg: str, *sections: tuple[str, str]) -> list[tuple[str, str]]:
    parser = configparser.ConfigParser()
    parser.read(setup_cfg, encoding="utf-8")
    found = []
    for section, key in sections:
        for line in parser[section][key].splitlines():
            match = REQUIREMENT.match(line.split("#", 1)[0].strip())
            if match:
                found.append((match.group(1), match.group(2)))
    return found


def unit_test_tools(setup_cfg: str) -> list[str]:
    return [f"{name}{spec}" for name, spec in _requirements(setup_cfg, ("options.extras_require", "test"))
            if name not in NOT_FOR_UNIT_TESTS]


def minimums(setup_cfg: str) -> list[str]:
    pins = []
    for name, spec in _requirements(setup_cfg, ("options", "install_requires"), ("options.extras_require", "mongo")):
        for clause in spec.split(","):
            clause = clause.strip()
            if clause.startswith((">=", "==")):
                pins.append(f"{name}=={clause[2:].strip()}")
    return pins


if __name__ == "__main__":
    args = sys.argv[1:]
    tools = "--unit-test-tools" in args
    paths = [a for a in args if not a.startswith("--")] or ["setup.cfg"]
    print("\n".join(unit_test_tools(paths[0]) if tools else minimums(paths[0])))
