"""Settings: config.toml, overridden by LANTOA_* environment variables, checked up front."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.runtime.cli import main
from bot.runtime.config import DEFAULT_FIELDS, ConfigError, load_settings
from bot.ui.catalogue import Catalogue

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"
TOKEN = "123456:TEST-token"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder: no config.toml unless a test writes one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(folder: Path, text: str) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(**overrides: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    message = Catalogue.load().texts("vi").plain(caught.value.key, **caught.value.params)
    assert "\n" not in message
    return message


def test_defaults_without_a_config_file(folder: Path) -> None:
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.database == Path("data/lantoa.sqlite3")
    assert settings.api_root == "https://api.telegram.org"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.zone.key == "Asia/Ho_Chi_Minh"
    assert settings.invite_days == 7
    assert settings.bot_username is None
    assert settings.report.fields == list(DEFAULT_FIELDS)
    assert settings.report.keywords == {}


def test_the_committed_config_toml_is_valid(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANTOA_CONFIG", str(REPO_CONFIG))
    settings = load_settings()
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.report.fields == list(DEFAULT_FIELDS)
    assert settings.bot_token is None  # no secrets in the committed file
    keywords = settings.report.keywords
    assert set(keywords) == set(DEFAULT_FIELDS) - {"Khác"}
    assert all(8 <= len(words) <= 25 for words in keywords.values())
    assert "vệ sinh" in keywords["Môi trường"]


def test_config_toml_in_the_working_folder_is_read(folder: Path) -> None:
    write_config(folder, 'invite_days = 3\ndatabase = "elsewhere.db"\n'
                         '[report]\nmax_photos = 2\nfields = ["Kinh tế", "Khác"]\n')
    settings = load_settings()
    assert settings.invite_days == 3
    assert settings.database == Path("elsewhere.db")
    assert settings.report.max_photos == 2
    assert settings.report.fields == ["Kinh tế", "Khác"]


def test_lantoa_config_names_the_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(folder, "invite_days = 3\n")  # ignored: LANTOA_CONFIG points elsewhere
    other = folder / "prod.toml"
    other.write_text("invite_days = 14\n", encoding="utf-8")
    monkeypatch.setenv("LANTOA_CONFIG", str(other))
    assert load_settings().invite_days == 14


def test_the_environment_beats_config_toml(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(folder, 'database = "from_toml.sqlite3"\ninvite_days = 3\n')
    monkeypatch.setenv("LANTOA_DATABASE", str(folder / "from_env.sqlite3"))
    monkeypatch.setenv("LANTOA_INVITE_DAYS", "5")
    settings = load_settings()
    assert settings.database == folder / "from_env.sqlite3"
    assert settings.invite_days == 5


@pytest.mark.parametrize(("url", "root"), [
    ("http://localhost:8081/", "http://localhost:8081"),
    ("http://localhost:8081", "http://localhost:8081"),
    ("https://bot-api.example.org/telegram/", "https://bot-api.example.org/telegram"),
])
def test_bot_api_url_becomes_api_root_without_trailing_slash(
    folder: Path, monkeypatch: pytest.MonkeyPatch, url: str, root: str
) -> None:
    monkeypatch.setenv("LANTOA_BOT_API_URL", url)
    assert load_settings().api_root == root


def test_the_token_is_a_secret(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTOA_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert isinstance(settings.bot_token, SecretStr)
    assert settings.bot_token.get_secret_value() == TOKEN
    for shown in (repr(settings), str(settings), str(settings.model_dump())):
        assert TOKEN not in shown
        assert "TEST-token" not in shown


@pytest.mark.parametrize(("written", "kept"), [
    ("lantoa_bot", "lantoa_bot"), ("@lantoa_bot", "lantoa_bot"), (" @lantoa_bot ", "lantoa_bot"),
    ("", None), ("@", None),
])
def test_bot_username_is_kept_without_at(
    folder: Path, monkeypatch: pytest.MonkeyPatch, written: str, kept: str | None
) -> None:
    monkeypatch.setenv("LANTOA_BOT_USERNAME", written)
    assert load_settings().bot_username == kept


# --- bad settings: one line that names the setting -----------------------------------------------

def test_a_non_number_in_the_environment(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTOA_DRAFT_TTL_DAYS", "abc")
    assert "LANTOA_DRAFT_TTL_DAYS" in config_error()


@pytest.mark.parametrize(("variable", "value"), [
    ("LANTOA_DRAFT_TTL_DAYS", "0"),
    ("LANTOA_INVITE_DAYS", "-1"),
    ("LANTOA_POLL_TIMEOUT", "500"),
    ("LANTOA_ALBUM_WAIT_SECONDS", "soon"),
    ("LANTOA_BOT_API_URL", "api.telegram.org"),
    ("LANTOA_TIMEZONE", "Saigon/Nowhere"),
])
def test_out_of_range_values_name_the_variable(
    folder: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert variable in config_error()


def test_a_missing_lantoa_config_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTOA_CONFIG", str(folder / "nowhere.toml"))
    message = config_error()
    assert "LANTOA_CONFIG" in message
    assert "nowhere.toml" in message


def test_lantoa_config_pointing_at_a_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTOA_CONFIG", str(folder))
    assert "LANTOA_CONFIG" in config_error()


def test_a_bad_timezone_in_config_toml(folder: Path) -> None:
    write_config(folder, 'timezone = "Mars/Olympus_Mons"\n')
    message = config_error()
    assert "timezone" in message
    assert "Mars/Olympus_Mons" in message


def test_a_bad_nested_value_names_its_path(folder: Path) -> None:
    write_config(folder, "[report]\nmax_photos = 50\n")
    assert "report.max_photos" in config_error()


def test_broken_toml_names_the_file(folder: Path) -> None:
    write_config(folder, "timezone = \n")
    assert "config.toml" in config_error()


# --- the same through the command line -----------------------------------------------------------

@pytest.mark.parametrize(("setup", "named"), [
    ({"LANTOA_DRAFT_TTL_DAYS": "abc"}, "LANTOA_DRAFT_TTL_DAYS"),
    ({"LANTOA_CONFIG": "missing.toml"}, "LANTOA_CONFIG"),
    ({"config.toml": 'timezone = "Nowhere/City"\n'}, "timezone"),
    ({"LANTOA_BOT_API_URL": "not a url"}, "LANTOA_BOT_API_URL"),
])
def test_the_command_line_stops_with_one_line(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    setup: dict[str, str], named: str,
) -> None:
    monkeypatch.setenv("LANTOA_DATABASE", str(folder / "lantoa.sqlite3"))
    for key, value in setup.items():
        if key == "config.toml":
            write_config(folder, value)
        else:
            monkeypatch.setenv(key, value)
    assert main(["init"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("lantoa: ")
    assert named in lines[0]
    assert not (folder / "lantoa.sqlite3").exists()


@pytest.mark.parametrize(("toml", "named"), [
    ("draft_ttl_dayz = 3\n", "draft_ttl_dayz"),
    ("[report]\nmax_photo = 2\n", "report.max_photo"),
])
def test_a_misspelt_setting_is_named_not_ignored(folder: Path, toml: str, named: str) -> None:
    (folder / "config.toml").write_text(toml, encoding="utf-8")
    message = config_error()
    assert named in message
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.key == "settings.unknown" and caught.value.params["setting"] == named


def test_fields_must_be_distinct(folder: Path) -> None:
    (folder / "config.toml").write_text('[report]\nfields = ["Kinh tế", "Kinh tế"]\n',
                                        encoding="utf-8")
    assert "report.fields" in config_error()


def test_keywords_are_read_per_field(folder: Path) -> None:
    write_config(folder, '[report]\nfields = ["Kinh tế", "Khác"]\n'
                         '[report.keywords]\n"Kinh tế" = ["chăn nuôi", "vay vốn"]\n')
    assert load_settings().report.keywords == {"Kinh tế": ["chăn nuôi", "vay vốn"]}


@pytest.mark.parametrize("toml", [
    '[report.keywords]\n"Kinh te" = ["chăn nuôi"]\n',  # a field's name must be spelt as in fields
    '[report]\nfields = ["Khác"]\n[report.keywords]\n"Kinh tế" = ["chăn nuôi"]\n',
    '[report.keywords]\n"Kinh tế" = ["chăn nuôi", " "]\n',
    '[report.keywords]\n"Kinh tế" = "chăn nuôi"\n',
])
def test_keywords_for_no_field_are_a_configuration_error(folder: Path, toml: str) -> None:
    write_config(folder, toml)
    assert "report.keywords" in config_error()


def test_an_unknown_field_in_keywords_is_named(folder: Path) -> None:
    write_config(folder, '[report.keywords]\n"Kinh te" = ["chăn nuôi"]\n')
    assert "'Kinh te'" in config_error()
