"""Settings: config.toml (committed, no secrets) overridden by LANTOA_* environment variables."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "LANTOA_CONFIG"
DEFAULT_FIELDS = (
    "Kinh tế", "Văn hóa", "Xã hội", "An sinh xã hội, giảm nghèo", "Quốc phòng – an ninh",
    "Xây dựng Đảng, hệ thống chính trị", "Môi trường", "Khác",
)


class ConfigError(Exception):
    """A setting is missing or wrong: a catalogue key and what to fill it with, for one line
    that names the setting."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


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

    @field_validator("fields")
    @classmethod
    def _distinct(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names) or not all(name.strip() for name in names):
            raise ValueError("each field must be named once, and not be empty")
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
            raise ValueError(f"{unknown[0]!r} is not one of report.fields")
        if any(not word.strip() for words in keywords.values() for word in words):
            raise ValueError("a keyword must not be empty")
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
    model_config = SettingsConfigDict(env_prefix="LANTOA_", extra="forbid")

    bot_token: SecretStr | None = None
    database: Path = Path("data/lantoa.sqlite3")
    bot_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    timezone: str = "Asia/Ho_Chi_Minh"
    draft_ttl_days: int = Field(7, ge=1)
    album_wait_seconds: float = Field(2.0, ge=0, le=10)
    invite_days: int = Field(7, ge=1)
    # The personal links of members imported from a file: lists are handed out on paper at a
    # cell's monthly meeting, so they last longer than an invite sent in a chat.
    import_invite_days: int = Field(30, ge=1, le=3650)
    poll_timeout: int = Field(30, ge=0, le=50)
    # One update at a time, as PTB does by default: only bench/interactive.py's baseline uses it.
    sequential_updates: bool = False
    quiet_hours_start: int = Field(21, ge=0, le=23)
    quiet_hours_end: int = Field(7, ge=0, le=23)
    bot_username: str | None = None
    # The last day counted into a month by /stats and exports (e.g. 15: tháng 11 is 16/10–15/11);
    # unset, months are calendar months.
    month_cutoff_day: int | None = Field(None, ge=1, le=28)
    # Telegram user ids of the people who run the bot: they may do anything a leader may, anywhere.
    admins: list[int] = Field(default_factory=list)
    report: ReportSettings = Field(default_factory=ReportSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
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


def _setting_name(location: tuple) -> str:
    if len(location) == 1 and location[0] in Settings.model_fields:
        return f"LANTOA_{str(location[0]).upper()} ({location[0]})"
    return ".".join(str(part) for part in location)


def load_settings(**overrides: Any) -> Settings:
    """Reads the settings or raises ConfigError with one line naming the bad setting.
    `overrides` are raw values for pydantic to validate, hence Any, as in its own __init__."""
    path = config_path()
    if CONFIG_ENV in os.environ and not path.is_file():
        raise ConfigError("settings.file_missing", setting=CONFIG_ENV, path=path)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        setting = _setting_name(first["loc"])
        if first["type"] == "extra_forbidden":
            raise ConfigError("settings.unknown", setting=setting, path=path) from None
        raise ConfigError("settings.invalid", setting=setting, detail=first["msg"]) from None
    except (OSError, ValueError) as error:
        raise ConfigError("settings.unreadable", path=path, error=error) from None
