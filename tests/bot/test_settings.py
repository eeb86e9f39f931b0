"""bot.settings: the [discord] table, environment overrides, and a token that never leaks."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.settings import BotSecrets, BotSettings, load_bot_settings
from retrieval import ConfigError
from tests.conftest import REPO_ROOT


def test_defaults_and_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[discord]\nallowed_channels = [5]\nopen_threads = false\n", encoding="utf-8")
    monkeypatch.setenv("QABOT_DISCORD__API_BASE", "http://127.0.0.1:9/api/v10")
    monkeypatch.setenv("QABOT_DISCORD__GATEWAY_URL", "ws://127.0.0.1:9/gateway")
    settings = load_bot_settings(str(config))
    assert isinstance(settings, BotSettings)
    assert settings.discord.api_base == "http://127.0.0.1:9/api/v10"
    assert settings.discord.gateway_url == "ws://127.0.0.1:9/gateway"
    assert settings.discord.allowed_channels == [5] and not settings.discord.open_threads
    assert not settings.discord.allow_dms and settings.discord.feedback_db.parts[0] == "data"


def test_a_typo_in_the_discord_table_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("[discord]\nalowed_channels = [5]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="alowed_channels"):
        load_bot_settings(str(config))


def test_the_token_is_never_in_a_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "super-secret-token")
    secrets = BotSecrets()
    assert secrets.discord_token is not None
    assert "super-secret-token" not in repr(secrets) and "super-secret-token" not in str(secrets)


def test_the_settings_file_shows_every_table_and_key_with_the_code_defaults() -> None:
    """Defaults are written once, in code; the file lists each of them and no table nobody owns."""
    path = REPO_ROOT / "config" / "settings.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(config) == set(BotSettings.model_fields)
    for section, info in BotSettings.model_fields.items():
        model = info.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        assert set(config[section]) == set(model.model_fields), section
    assert load_bot_settings(str(path)) == BotSettings()
