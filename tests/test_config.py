"""Settings: config.toml, overridden by LANTOA_* environment variables, checked up front."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.runtime.cli import main
from bot.runtime.config import (
    DEFAULT_FIELDS,
    ConfigError,
    Settings,
    expectation,
    load_settings,
)
from bot.ui.catalogue import Catalogue

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"
TOKEN = "123456:TEST-token"
T = Catalogue.load().texts("vi")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder: no config.toml unless a test writes one."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(folder: Path, text: str) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error() -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = caught.value.message(T)
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
    ({"config.toml": 'timezone = "Nowhere/City"\n'}, 'config.toml: "timezone"'),
    ({"config.toml": "[report]\nmax_photos = 50\n"}, 'config.toml: "report.max_photos"'),
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
    assert T.plain("settings.expect.keyword_field", name="Kinh te") in config_error()


# --- a wrong value in config.toml names the key and the file, in Vietnamese ---------------------

def test_a_wrong_value_in_config_toml_is_said_in_one_vietnamese_line(folder: Path) -> None:
    write_config(folder, '[report]\nmax_photos = "abc"\n')
    assert config_error() == ('config.toml: "report.max_photos" phải là số nguyên từ 0 đến 10 '
                              '(đang là "abc").')


def test_a_wrong_top_level_value_names_the_file_not_a_variable(folder: Path) -> None:
    write_config(folder, "draft_ttl_days = 0\n")
    message = config_error()
    assert message == 'config.toml: "draft_ttl_days" phải là số nguyên từ 1 trở lên (đang là 0).'
    assert "LANTOA_" not in message


def test_the_file_named_is_the_one_lantoa_config_points_at(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = folder / "prod.toml"
    other.write_text("poll_timeout = 500\n", encoding="utf-8")
    monkeypatch.setenv("LANTOA_CONFIG", str(other))
    assert config_error() == (f'{other}: "poll_timeout" phải là số nguyên từ 0 đến 50 '
                              "(đang là 500).")


def test_a_wrong_environment_variable_names_itself(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(folder, "draft_ttl_days = 3\n")
    monkeypatch.setenv("LANTOA_DRAFT_TTL_DAYS", "abc")
    assert config_error() == 'LANTOA_DRAFT_TTL_DAYS phải là số nguyên từ 1 trở lên (đang là "abc").'


def test_the_environment_overrides_a_wrong_value_of_config_toml(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(folder, 'draft_ttl_days = "abc"\n')
    monkeypatch.setenv("LANTOA_DRAFT_TTL_DAYS", "3")
    assert load_settings().draft_ttl_days == 3


@pytest.mark.parametrize(("variable", "value", "said"), [
    # A list that is not JSON.
    ("LANTOA_ADMINS", "123, 456",
     'LANTOA_ADMINS phải là danh sách số nguyên, ví dụ [123456789] (đang là "123, 456").'),
    # A part of a table: the variable, then which part.
    ("LANTOA_REPORT", '{"max_photos": 40}',
     'LANTOA_REPORT: "report.max_photos" phải là số nguyên từ 0 đến 10 (đang là 40).'),
])
def test_a_list_or_table_in_an_environment_variable(
    folder: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert config_error() == said


@pytest.mark.parametrize(("toml", "setting", "expected", "value"), [
    ('timezone = "Asia/Hanoi_City"', "timezone", ("settings.expect.zone", {}),
     '"Asia/Hanoi_City"'),
    ('bot_api_url = "api.telegram.org"', "bot_api_url", ("settings.expect.url", {}),
     '"api.telegram.org"'),
    ('admins = ["Nguyễn Văn A"]', "admins.0", ("settings.expect.int", {}), '"Nguyễn Văn A"'),
    ("admins = 5", "admins", ("settings.expect.list_of_int", {}), "5"),
    ('sequential_updates = "có"', "sequential_updates", ("settings.expect.bool", {}), '"có"'),
    ('album_wait_seconds = "2 giây"', "album_wait_seconds",
     ("settings.expect.float_between", {"low": 0, "high": 10}), '"2 giây"'),
    ("month_cutoff_day = 31", "month_cutoff_day",
     ("settings.expect.int_between", {"low": 1, "high": 28}), "31"),
    ("invite_days = 1000", "invite_days",
     ("settings.expect.int_between", {"low": 1, "high": 365}), "1000"),
    ("report = 3", "report", ("settings.expect.table", {"name": "report"}), "3"),
    ("[report]\nfields = []", "report.fields",
     ("settings.expect.list_of_text_not_empty", {}), "[]"),
    ('[report]\nfields = ["Kinh tế", "Kinh tế"]', "report.fields",
     ("settings.expect.fields", {}), '["Kinh tế", "Kinh tế"]'),
    ("[report]\ndescription_max = 5000", "report.description_max",
     ("settings.expect.int_at_most", {"high": 3500}), "5000"),
    ('[schedule]\ndigest_weekday = "thứ hai"', "schedule.digest_weekday",
     ("settings.expect.choice", {"choices": '"monday", "tuesday", "wednesday", "thursday", '
                                            '"friday", "saturday", "sunday"'}), '"thứ hai"'),
    ('[schedule]\ndigest_time = "25:00"', "schedule.digest_time", ("settings.expect.time", {}),
     '"25:00"'),
    ('[schedule]\ndigest_every = "năm"', "schedule.digest_every",
     ("settings.expect.choice", {"choices": '"week", "month"'}), '"năm"'),
    ('[report.keywords]\n"Kinh tế" = "chăn nuôi"', "report.keywords.Kinh tế",
     ("settings.expect.list_of_text", {}), '"chăn nuôi"'),
    ('timezone = "' + "x" * 200 + '"', "timezone", ("settings.expect.zone", {}),
     '"' + "x" * 59 + "…"),
])
def test_each_wrong_value_is_told_with_what_it_must_be(
    folder: Path, toml: str, setting: str, expected: tuple[str, dict[str, object]], value: str
) -> None:
    write_config(folder, toml + "\n")
    key, params = expected
    assert config_error() == T.plain("settings.invalid", path="config.toml", setting=setting,
                                     expected=T.plain(key, **params), value=value)


def _fields(model: type, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        found.append((*prefix, name))
        if isinstance(field.annotation, type) and hasattr(field.annotation, "model_fields"):
            found += _fields(field.annotation, (*prefix, name))
    return found


@pytest.mark.parametrize("location", _fields(Settings), ids=".".join)
def test_every_setting_can_say_what_it_must_be(location: tuple[str, ...]) -> None:
    key, params = expectation(location)
    text = T.plain(key, **params)
    assert text and "None" not in text
