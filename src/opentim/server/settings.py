"""``opentim serve``'s settings: flags > ``OPENTIM_*`` variables > a TOML file > defaults.

The model is derived from the ``ServerConfig`` and ``Limits`` dataclasses (server/config.py), so
they stay the single source: every field of theirs is a setting, with its type checked by
pydantic, its default, and its names (``port`` in the file, ``OPENTIM_PORT`` in the environment;
``[limits]`` / ``OPENTIM_LIMITS__REVOKE_SECONDS`` for a limit). Only ``log_level`` is added here:
it configures the process, not the server. Every failure is a ``ConfigError`` of one line that
says where the bad value came from.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .config import (
    DEFAULT_LOG_LEVEL,
    ENV_PREFIX,
    LOG_LEVELS,
    ConfigError,
    Limits,
    ServerConfig,
    settable,
)

NESTED = "__"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
assert get_args(LogLevel) == LOG_LEVELS

CHECKS: dict[str, FieldInfo] = {
    "port": Field(ge=0, le=65535),
    "sdkappid": Field(gt=0, lt=2**32),
}
"""Range checks beyond a field's type, by field name (ServerConfig or Limits)."""


RENAMED = {"OPENTIM_NO_AUTO_REGISTER": "OPENTIM_AUTO_REGISTER=false"}
"""Variables earlier releases read, refused rather than ignored: ignoring this one would
silently register anyone."""


def _fields_of(cls: type) -> dict[str, Any]:
    """``create_model`` field definitions from a dataclass: type, default, and CHECKS."""
    hints = get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in settable(cls):
        kind = hints[f.name]
        if f.name in CHECKS:
            kind = Annotated[kind, CHECKS[f.name]]
        if f.default is not dataclasses.MISSING:
            out[f.name] = (kind, f.default)
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = (kind, Field(default_factory=f.default_factory))
        else:
            out[f.name] = (kind, ...)
    return out


LimitsSettings: type[BaseModel] = create_model(
    "LimitsSettings", __config__=ConfigDict(extra="forbid"), **_fields_of(Limits)
)


class _Base(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=NESTED, extra="forbid"
    )

    log_level: LogLevel = DEFAULT_LOG_LEVEL
    """How much the server logs: INFO shows logins, logouts and refused requests."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, str) and value.upper() in get_args(LogLevel):
            return value.upper()
        return value  # refused as it was given


_server_fields = _fields_of(ServerConfig)
_server_fields["limits"] = (LimitsSettings, Field(default_factory=LimitsSettings))
Settings: type[_Base] = create_model("Settings", __base__=_Base, **_server_fields)
"""Every setting of ``opentim serve`` (``Settings.model_fields``: names, types, defaults)."""

LIMIT_NAMES = tuple(LimitsSettings.model_fields)
SETTING_NAMES = tuple(name for name in Settings.model_fields if name != "limits")
"""The top-level settings (``log_level`` first), each a flag of ``opentim serve``."""


def default_of(name: str) -> Any:
    """A top-level setting's default value."""
    return Settings.model_fields[name].get_default(call_default_factory=True)


def read_toml(path: Path) -> dict[str, Any]:
    """A config file's settings: at its top level or under ``[opentim]``, names as the flags
    (``node-id`` or ``node_id``), limits under ``[limits]`` (or ``[opentim.limits]``).

    Raises:
        ConfigError: the file cannot be read or is not TOML.
    """
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    section = data.pop("opentim", {})
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: [opentim] must be a table")
    return _underscored({**data, **section})


def _underscored(table: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k.replace("-", "_"): _underscored(v) if isinstance(v, Mapping) else v
        for k, v in table.items()
    }


def load_settings(flags: Mapping[str, Any], config_file: Path | None = None) -> _Base:
    """Validate the layers: ``flags`` (only those given), ``OPENTIM_*``, the file, defaults.

    Raises:
        ConfigError: one line naming each bad or unknown setting, where it came from, the fix.
    """
    for old, new in RENAMED.items():
        if old in os.environ:
            raise ConfigError(f"{old} is no longer read: set {new} instead (and unset {old})")
    from_file = read_toml(config_file) if config_file is not None else {}

    class Layered(Settings):  # type: ignore[misc, valid-type]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, InitSettingsSource(settings_cls, from_file)

    try:
        return Layered(**flags)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, flags, from_file, config_file)) from None


def _explain(
    exc: ValidationError,
    flags: Mapping[str, Any],
    from_file: Mapping[str, Any],
    config_file: Path | None,
) -> str:
    unknown: dict[str, list[str]] = {}
    bad: list[str] = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        where = _source(loc, flags, from_file, config_file)
        if error["type"] == "extra_forbidden":
            place = f"{config_file}" if where.endswith(f" in {config_file}") else "the environment"
            shown = ".".join(loc) if place != "the environment" else where
            unknown.setdefault(place, []).append(shown)
            continue
        bad.append(f"{where} = {error['input']!r}: {error['msg']}")
    parts = [
        f"unknown settings in {place}: {', '.join(names)} (the names are those of "
        "`opentim serve --help` and [limits]; see docs/configuration.md)"
        for place, names in unknown.items()
    ]
    if bad:
        parts.append(f"bad setting {'; '.join(bad)}: fix it, or remove it to use the default")
    return "; ".join(parts)


def _source(
    loc: list[str], flags: Mapping[str, Any], from_file: Mapping[str, Any], config_file: Path | None
) -> str:
    """Which layer gave the value at ``loc``: the flag, the variable, or the file."""
    if loc[0] in flags:
        return f"--{loc[0].replace('_', '-')}"
    variables = {k.upper() for k in os.environ}
    for depth in range(len(loc), 0, -1):  # OPENTIM_LIMITS__REVOKE_SECONDS, then OPENTIM_LIMITS
        env = ENV_PREFIX + NESTED.join(loc[:depth]).upper()
        if env in variables:
            return env
        if _lookup(from_file, loc[:depth]):
            return f"{'.'.join(loc)} in {config_file}"
    return ".".join(loc)


def _lookup(table: Mapping[str, Any], loc: list[str]) -> bool:
    for part in loc:
        if not isinstance(table, Mapping) or part not in table:
            return False
        table = table[part]
    return True


def to_config(settings: BaseModel) -> ServerConfig:
    """The ``ServerConfig`` the validated settings describe."""
    values = {f.name: getattr(settings, f.name) for f in settable(ServerConfig)}
    values["limits"] = Limits(**values["limits"].model_dump())
    return ServerConfig(**values)


def describe() -> list[tuple[str, str, Any]]:
    """Every setting as (file name, environment variable, default), limits as ``limits.NAME``."""
    rows = [(n, ENV_PREFIX + n.upper(), default_of(n)) for n in SETTING_NAMES]
    for n in LIMIT_NAMES:
        env = f"{ENV_PREFIX}LIMITS{NESTED}{n.upper()}"
        rows.append((f"limits.{n}", env, LimitsSettings.model_fields[n].get_default()))
    return rows
