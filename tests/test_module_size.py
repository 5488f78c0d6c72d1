"""No module of the packages is over 500 lines (house style: small modules named after what they own), so a
module that grows past it is split by what its parts own before it lands."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("taxii_server", "converters", "bench")
MAX_LINES = 500


def modules() -> list[Path]:
    """The project's own modules: not what a hidden directory holds (the peers a bench installs, caches)."""
    return sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py")
                  if not any(part.startswith(".") for part in path.relative_to(REPO).parts))


def test_the_packages_have_modules_to_measure() -> None:
    assert {path.relative_to(REPO).parts[0] for path in modules()} == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_500_lines(package: str) -> None:
    lengths = {str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
               for path in modules() if path.relative_to(REPO).parts[0] == package}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}
