from __future__ import annotations

from pathlib import Path

import pytest

from taxii_server.errors import ConfigError
from taxii_server.settings import load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, env={})
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
    assert load_settings(None, env={"TAXII_HUB_CONFIG": str(path)}).max_page_size == 7


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
