"""Settings layers: flags > OPENTIM_* > the TOML file > defaults, derived from ServerConfig."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from opentim.server.config import ConfigError, Limits, ServerConfig, setting_defaults
from opentim.server.settings import describe, load_settings, settable, to_config


def test_flags_win_over_environment_over_file_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "opentim.toml"
    file.write_text(
        '[opentim]\nhost = "127.0.0.2"\nport = 1\nnode-id = "file"\nbus_prefix = "file"\n'
        "[opentim.limits]\nrevoke_seconds = 5\nconv_groups = 3\n"
    )
    monkeypatch.setenv("OPENTIM_PORT", "2")
    monkeypatch.setenv("OPENTIM_NODE_ID", "env")
    monkeypatch.setenv("OPENTIM_LIMITS__CONV_GROUPS", "4")
    monkeypatch.setenv("OPENTIM_AUTO_REGISTER", "false")
    monkeypatch.setenv("OPENTIM_LOG_LEVEL", "info")
    chosen = load_settings({"port": 3}, file)
    config = to_config(chosen)
    assert chosen.log_level == "INFO"
    assert (config.port, config.node_id, config.host, config.bus_prefix) == (
        3,
        "env",
        "127.0.0.2",
        "file",
    )
    assert config.auto_register is False
    assert config.limits == dataclasses.replace(Limits(), revoke_seconds=5, conv_groups=4)
    assert config.data_dir == ServerConfig().data_dir  # the default


def test_without_anything_the_settings_are_server_configs_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _name, env, _ in describe():
        monkeypatch.delenv(env, raising=False)
    assert to_config(load_settings({})) == ServerConfig()


def test_every_field_of_server_config_and_limits_is_a_setting() -> None:
    names = {name for name, _, _ in describe()}
    assert {f.name for f in settable(ServerConfig)} - {"limits"} < names
    assert {f"limits.{f.name}" for f in settable(Limits)} < names
    assert "limits" in {f.name for f in settable(ServerConfig)}


def test_an_environment_value_of_the_wrong_type_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENTIM_LIMITS__REVOKE_SECONDS", "soon")
    with pytest.raises(ConfigError, match=r"^bad setting OPENTIM_LIMITS__REVOKE_SECONDS = 'soon'"):
        load_settings({})


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    for name, env, _ in describe():
        assert f"`{name.removeprefix('limits.')}`" in doc, name
        assert f"`{env}`" in doc, env


def test_an_unknown_name_is_refused_where_it_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "opentim.toml"
    file.write_text("auto-registre = false\n")
    monkeypatch.setenv("OPENTIM_LIMITS__REVOKE_SECS", "5")
    with pytest.raises(ConfigError) as refused:
        load_settings({}, file)
    message = str(refused.value)
    assert "unknown settings in the environment: OPENTIM_LIMITS__REVOKE_SECS " in message
    assert f"unknown settings in {file}: auto_registre " in message
    assert "\n" not in message


def test_help_s_standard_library_listing_matches_the_settings_model() -> None:
    assert [(n, d) for n, _, d in describe() if "." not in n] == list(setting_defaults().items())


def test_the_old_no_auto_register_variable_is_refused_not_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENTIM_NO_AUTO_REGISTER", "1")
    with pytest.raises(ConfigError, match="set OPENTIM_AUTO_REGISTER=false instead"):
        load_settings({})
