"""Settings: config.toml (committed, no secrets) overridden by LANTOA_* environment variables."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Le, MinLen
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from bot.ui.catalogue import Texts
from storage.db import URL_LIKE, is_postgres_url, without_password

CONFIG_ENV = "LANTOA_CONFIG"
DEFAULT_FIELDS = (
    "Kinh tế", "Văn hóa", "Xã hội", "An sinh xã hội, giảm nghèo", "Quốc phòng – an ninh",
    "Xây dựng Đảng, hệ thống chính trị", "Môi trường", "Khác",
)


# The longest an invite may live: config's invite_days and `lantoa invite --days` are held to
# it. A year covers a campaign's shared link; a longer one is a link nobody remembers is open.
MAX_INVITE_DAYS = 365
ENV_PREFIX = "LANTOA_"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's secret_token
SECRETS = ("bot_token", "webhook_secret")
SHOWN_VALUE = 60  # characters of a wrong value quoted back; the rest is cut

Expectation = tuple[str, Mapping[str, object]]  # a key under settings.expect, and its params


class ConfigError(Exception):
    """A setting is missing or wrong: a catalogue key and what to fill it with, for one line
    that names the setting, where it was set (config.toml or an environment variable) and,
    for a wrong value, what it must be."""

    def __init__(self, key: str, expected: Expectation | None = None, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.expected = expected
        self.params = params

    def message(self, t: Texts) -> str:
        params = dict(self.params)
        if self.expected is not None:
            key, more = self.expected
            params["expected"] = t.plain(key, **more)
        return t.plain(self.key, **params)


class SettingProblem(ValueError):
    """A validator's refusal, said as what the setting must be (a key under settings.expect):
    pydantic keeps the exception, and the line naming the setting quotes it."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.expected: Expectation = (key, params)


class ReportSettings(BaseModel):
    # A misspelt setting must not silently fall back to its default.
    model_config = ConfigDict(extra="forbid")

    fields: list[str] = Field(default_factory=lambda: list(DEFAULT_FIELDS), min_length=1)
    max_photos: int = Field(5, ge=0, le=10)
    max_age_days: int = Field(365, ge=1)
    description_min: int = Field(10, ge=1)
    description_max: int = Field(2000, le=3500)
    # Field name -> words that point to it in a report sent as one message (config.toml says
    # how they are counted). Declared after `fields`, which its check needs already read.
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    # A province's own Word template for the official report (bot/ui/templates/report_doc.docx
    # is the one packaged); a relative path is from the folder the bot runs in.
    word_template: Path | None = None

    @field_validator("fields")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names) or not all(name.strip() for name in names):
            raise SettingProblem("settings.expect.fields")
        return names

    @field_validator("keywords")
    @classmethod
    def _known_fields(
        cls, keywords: dict[str, list[str]], info: ValidationInfo
    ) -> dict[str, list[str]]:
        # `fields` is missing from info.data when it failed its own check: that error is told.
        fields = info.data.get("fields", ())
        unknown = [name for name in keywords if name not in fields]
        if fields and unknown:
            raise SettingProblem("settings.expect.keyword_field", name=unknown[0])
        if any(not word.strip() for words in keywords.values() for word in words):
            raise SettingProblem("settings.expect.keywords_not_empty")
        return keywords


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ScheduleSettings(BaseModel):
    """Every unit's schedule starts from these (PRODUCT.md, "Schedules"); its leaders change
    it with /schedule, and the change is kept in the database."""

    model_config = ConfigDict(extra="forbid")

    digest_every: Literal["week", "month"] = "week"
    digest_weekday: Weekday = "monday"
    digest_month_day: int = Field(1, ge=1, le=28)
    digest_time: dt.time = dt.time(7, 30)
    reminder_weekday: Weekday = "friday"
    reminder_time: dt.time = dt.time(16, 0)
    # The leaders' daily notice of the reports waiting for acknowledgment: in the evening, when
    # a cell's secretary, at work by day, has the phone at hand, and before the quiet hours.
    review_time: dt.time = dt.time(19, 0)
    # A digest or reminder missed while the bot was down still goes out this long after its
    # time; later, it is recorded as missed.
    grace_hours: float = Field(24, ge=0, le=24 * 7)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    bot_token: SecretStr | None = None
    # A SQLite file, or a PostgreSQL server's URL (postgresql://user:password@host:5432/db).
    database: Path | str = Path("data/lantoa.sqlite3")
    bot_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    timezone: str = "Asia/Ho_Chi_Minh"
    draft_ttl_days: int = Field(7, ge=1)
    album_wait_seconds: float = Field(2.0, ge=0, le=10)
    invite_days: int = Field(7, ge=1, le=MAX_INVITE_DAYS)
    # The personal links of members imported from a file: lists are handed out on paper at a
    # cell's monthly meeting, so they last longer than an invite sent in a chat.
    import_invite_days: int = Field(30, ge=1, le=MAX_INVITE_DAYS)
    poll_timeout: int = Field(30, ge=0, le=50)
    # How long the active process's lease lasts unrenewed: a standby takes over this long
    # (and a second or two) after the active one died, hung or lost the database.
    lease_seconds: int = Field(10, ge=5, le=300)
    # One update at a time, as PTB does by default: only bench/interactive.py's baseline uses it.
    sequential_updates: bool = False
    quiet_hours_start: int = Field(21, ge=0, le=23)
    quiet_hours_end: int = Field(7, ge=0, le=23)
    bot_username: str | None = None
    # The unit (its code, or its numeric id) at the top of the subtree this bot token serves,
    # when several bots share one database (bot/rules/bots.py); unset: the whole tree.
    root_unit: str | None = None
    # The last day counted into a month by /stats and exports (e.g. 15: tháng 11 is 16/10–15/11);
    # unset, months are calendar months.
    month_cutoff_day: int | None = Field(None, ge=1, le=28)
    # Telegram user ids of the people who run the bot: they may do anything a leader may, anywhere.
    admins: list[int] = Field(default_factory=list)
    # The bot's own HTTP server (webhook, /healthz, /metrics), e.g. "0.0.0.0:8080"; unset, none.
    http_listen: str | None = None
    # `lantoa run --webhook`: the public address Telegram posts to (its path is the route served
    # on http_listen) and the secret Telegram sends with every update.
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    metrics: bool = False  # GET /metrics on http_listen, in Prometheus' text format
    report: ReportSettings = Field(default_factory=ReportSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)

    @field_validator("database", mode="before")
    @classmethod
    def _file_or_url(cls, value: Any) -> Path | str:
        """A PostgreSQL URL, or else a SQLite file. A value that looks like a URL of another
        scheme (`postgresq://`, `mysql://`) is a typo or the wrong server, never a file name
        meant: taken as a path, it would quietly start an empty SQLite database."""
        if is_postgres_url(value):
            try:
                urlsplit(str(value)).port  # noqa: B018 - read to find a malformed address
            except ValueError:
                raise SettingProblem("settings.expect.database") from None
            return str(value)
        if URL_LIKE.match(str(value)):
            raise SettingProblem("settings.expect.database")
        return Path(value)

    @field_validator("http_listen")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, colon, port = value.strip().rpartition(":")
        if not colon or not port.isdigit() or not 1 <= int(port) <= 65535 or " " in host:
            raise SettingProblem("settings.expect.http_listen")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """What Telegram accepts as a secret_token."""
        if value is not None and not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise SettingProblem("settings.expect.webhook_secret")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingProblem("settings.expect.zone") from None
        return value

    @field_validator("bot_username")
    @classmethod
    def _bare_username(cls, value: str | None) -> str | None:
        """"@lantoa_bot" as written in Telegram; the t.me link takes the name without "@"."""
        if value is None:
            return None
        return value.strip().removeprefix("@").strip() or None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def api_root(self) -> str:
        return str(self.bot_api_url).rstrip("/")

    def quiet_at(self, moment: dt.datetime) -> bool:
        """Within the hours when nobody gets a message they did not ask for."""
        hour = moment.astimezone(self.zone).hour
        start, end = self.quiet_hours_start, self.quiet_hours_end
        return hour >= start or hour < end if start > end else start <= hour < end

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_path()),
        )


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV, "config.toml"))


def environment_variable(name: str) -> str | None:
    """The variable that sets the top-level setting `name`, if one does (pydantic-settings
    reads them in any case)."""
    wanted = f"{ENV_PREFIX}{name}".upper()
    return next((key for key in os.environ if key.upper() == wanted), None)


WORD_TEMPLATE = ".".join(("report", "word_template"))  # as errors name it (not a text's key)


def load_settings() -> Settings:
    """Reads the settings or raises ConfigError with one line naming the bad setting: the
    environment variable when one set it, else the key in config.toml and the file."""
    path = config_path()
    if CONFIG_ENV in os.environ and not path.is_file():
        raise ConfigError("settings.file_missing", setting=CONFIG_ENV, path=path)
    try:
        settings = Settings()
    except ValidationError as error:
        raise _wrong_value(error.errors()[0], path) from None
    except SettingsError as error:
        # A list or table given in an environment variable that is not JSON.
        named = re.search(r'field "(\w+)"', str(error))
        variable = environment_variable(named.group(1)) if named else None
        if named is None or variable is None:
            raise ConfigError("settings.unreadable", path=path, error=error) from None
        raise ConfigError("settings.invalid_env", expectation((named.group(1),)),
                          variable=variable, value=_shown(os.environ[variable])) from None
    except (OSError, ValueError) as error:
        raise ConfigError("settings.unreadable", path=path, error=error) from None
    template = settings.report.word_template
    if template is not None and not template.is_file():
        raise ConfigError("report_doc.template_missing", setting=WORD_TEMPLATE, path=template)
    return settings


def _wrong_value(error: ErrorDetails, path: Path) -> ConfigError:
    location = tuple(error["loc"])
    setting = ".".join(str(part) for part in location)
    if error["type"] == "extra_forbidden":
        return ConfigError("settings.unknown", setting=setting, path=path)
    problem = error.get("ctx", {}).get("error")
    expected = problem.expected if isinstance(problem, SettingProblem) else expectation(location)
    # A token or secret (SECRETS) is not quoted back, even a wrong one, nor a database URL's
    # password: the line may be pasted anywhere.
    value = ("***" if location[0] in SECRETS else
             _shown(without_password(str(error["input"]))) if location[0] == "database" else
             _shown(error["input"]))
    variable = environment_variable(str(location[0]))
    if variable is not None and len(location) == 1:
        return ConfigError("settings.invalid_env", expected, variable=variable, value=value)
    # A part of a list or table (given as JSON, if in a variable): where, then which part.
    return ConfigError("settings.invalid", expected, path=variable or path, setting=setting,
                       value=value)


def _shown(value: object) -> str:
    """The wrong value as written in TOML (a string in quotes), cut if long."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_VALUE else text[:SHOWN_VALUE] + "…"


def expectation(location: tuple[int | str, ...]) -> Expectation:
    """What the setting at `location` (pydantic's: field names, then list indexes or table
    keys) must be, read from its declaration: its type and bounds."""
    annotation: Any = Settings
    metadata: list[object] = []
    for part in location:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                break
            annotation, metadata = field.annotation, list(field.metadata)
        else:  # an item of a list, or a value of a table
            annotation, metadata = (get_args(annotation) or (Any,))[-1], []
    return _kind(annotation, metadata)


_SIMPLE = {bool: "bool", int: "int", float: "float", str: "text", SecretStr: "text",
           Path: "path", AnyHttpUrl: "url", dt.time: "time"}


def _kind(annotation: Any, metadata: list[object]) -> Expectation:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):  # X | None: None is the default, never written
        return _kind(next(a for a in args if a is not type(None)), metadata)
    if origin is Literal:
        return "settings.expect.choice", {"choices": ", ".join(f'"{a}"' for a in args)}
    if origin is list:
        empty_ok = not any(isinstance(m, MinLen) for m in metadata)
        kind = "list_of_int" if args == (int,) else "list_of_text"
        return f"settings.expect.{kind}" + ("" if empty_ok else "_not_empty"), {}
    if origin is dict:
        return "settings.expect.keywords", {}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        name = next(n for n, f in Settings.model_fields.items() if f.annotation is annotation)
        return "settings.expect.table", {"name": name}
    low = next((m.ge for m in metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, Le)), None)
    bounds = {(True, True): "_between", (True, False): "_at_least",
              (False, True): "_at_most", (False, False): ""}[low is not None, high is not None]
    return f"settings.expect.{_SIMPLE.get(annotation, 'text')}{bounds}", {"low": low,
                                                                          "high": high}
