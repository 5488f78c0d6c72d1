from __future__ import annotations

from pathlib import Path

import pytest

from taxii_server.errors import ConfigError
from taxii_server.settings import SEARCH_PATHS, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, env={}, search=())
    assert settings.config_file is None and "no configuration file" in settings.config_description
    assert settings.data_dir == Path("var")
    assert settings.storage.url == "sqlite:///var/hub.sqlite3"
    assert list(settings.api_roots) == ["hub"]


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, 'max_page_size = 10\n[storage]\nurl = "sqlite:///a.db"\n[api_roots.r]\ntitle = "R"\n')
    settings = load_settings(path, env={"TAXII_HUB_MAX_PAGE_SIZE": "20", "TAXII_HUB_STORAGE__URL": "sqlite:///b.db"})
    assert settings.max_page_size == 20
    assert settings.storage.url == "sqlite:///b.db"


def test_config_path_can_come_from_the_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, "max_page_size = 7\n")
    settings = load_settings(None, env={"TAXII_HUB_CONFIG": str(path)})
    assert settings.max_page_size == 7 and settings.config_description == f"{path}, from $TAXII_HUB_CONFIG"


def _discovery_candidates(tmp_path: Path) -> tuple[Path, Path, Path, tuple[Path, ...]]:
    given, named, local, system = (_write_at(tmp_path / d / "hub.toml", n) for d, n in
                                   (("given", 1), ("named", 2), ("local", 3), ("system", 4)))
    return given, named, local, (local, system)


def _write_at(path: Path, page_size: int) -> Path:
    path.parent.mkdir(parents=True)
    path.write_text(f"max_page_size = {page_size}\n")
    return path


@pytest.mark.parametrize(
    ("use_given", "use_env", "search_from", "expected", "found_by"),
    [
        (True, True, 0, 1, "--config"),  # --config wins over everything
        (False, True, 0, 2, "$TAXII_HUB_CONFIG"),  # then the environment
        (False, False, 0, 3, "local"),  # then ./config/hub.toml
        (False, False, 1, 4, "system"),  # then /etc/taxii-hub/hub.toml
    ],
)
def test_config_discovery_order(tmp_path: Path, use_given: bool, use_env: bool, search_from: int, expected: int,
                                found_by: str) -> None:
    given, named, _, search = _discovery_candidates(tmp_path)
    env = {"TAXII_HUB_CONFIG": str(named)} if use_env else {}
    settings = load_settings(given if use_given else None, env=env, search=search[search_from:])
    assert settings.max_page_size == expected
    assert found_by in settings.found_by and settings.config_file is not None


def test_the_search_paths_are_the_working_directory_then_etc() -> None:
    assert SEARCH_PATHS == (Path("config/hub.toml"), Path("/etc/taxii-hub/hub.toml"))


def test_the_working_directory_configuration_is_found_relative_to_it(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _write_at(tmp_path / "config" / "hub.toml", 9)
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, env={})
    assert settings.max_page_size == 9 and settings.config_description == "config/hub.toml, found as ./config/hub.toml"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("colections_dir = 'x'\n", {}, "unknown setting 'colections_dir'"),
        ("[storage]\nurl = 'sqlite:///x'\npath = 'y'\n", {}, "[storage]: unknown key 'path'"),
        ("", {"TAXII_HUB_MAX_PAGESIZE": "3"}, "unknown setting 'max_pagesize'"),
        ("max_page_size = 'many'\n", {}, "max_page_size: expected an integer"),
        ("[api_roots.r]\ndescription = 'no title'\n", {}, "[api_roots.r]: title is required"),
        ("status_retention_seconds = 60\n", {}, "at least 86400"),
        ("[discovery]\ndefault = 'nope'\n", {}, "default 'nope' is not one of the api_roots"),
        ("this is = not toml [\n", {}, "not valid TOML"),
    ],
)
def test_bad_settings_fail_loudly_naming_the_key(tmp_path: Path, text: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as failed:
        load_settings(_write(tmp_path, text), env=env)
    assert message in failed.value.message


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "absent.toml", env={})


def test_the_shipped_example_configuration_loads() -> None:
    settings = load_settings(Path(__file__).parent.parent / "config" / "hub.toml", env={})
    assert settings.discovery.default == "hub"
    assert settings.api_roots["hub"].max_content_length == 10485760
